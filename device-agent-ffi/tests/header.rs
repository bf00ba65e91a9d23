//! The checked-in C header matches what cbindgen makes from the code. `NUMBIND_BLESS_HEADER=1` rewrites it.

use std::path::Path;

#[test]
fn the_checked_in_header_is_what_cbindgen_generates() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let header_path = crate_dir.join("include/numbind_agent.h");
    if std::env::var_os("NUMBIND_BLESS_HEADER").is_some() {
        std::fs::write(&header_path, &generated).expect("write the header");
    }
    let checked_in = std::fs::read(&header_path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} differs from the code; run NUMBIND_BLESS_HEADER=1 cargo test -p numbind-device-agent-ffi --test header \
         and commit it",
        header_path.display()
    );
}
