//! ECDSA keys in the encodings evidence, CoRIMs and operators use; fast verify and sign.
