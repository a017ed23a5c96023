//! Attestation schemes (PSA IoT first): evidence appraisal and CoRIM endorsement extraction, free of I/O.
