//! CoRIM and CoMID documents: a typed model with a bounded decoder and an encoder.
