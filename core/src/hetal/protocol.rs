//! Client / server protocol messages (types and codec only, no I/O).
