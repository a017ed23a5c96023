//! Compiles the protos with protox, a pure-Rust protobuf compiler, so the
//! build never needs a system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(["proto/trust.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Bytes fields share buffers with the HTTP layer instead of copying.
        .bytes(".")
        .compile_fds(descriptors)?;
    Ok(())
}
