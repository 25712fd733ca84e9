//! Link rules for a binary that runs once per service: see build/per_service.rs.
include!("../build/per_service.rs");
