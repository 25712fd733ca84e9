//! Property checks shared by the cargo-fuzz targets (`fuzz/`) and the corpus replay test.
