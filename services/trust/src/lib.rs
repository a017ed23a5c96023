//! Trust service: endorsement stores, appraisal, EAR signing, served over gRPC.
