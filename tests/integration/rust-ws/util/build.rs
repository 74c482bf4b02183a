use std::{env, fs, path::Path};
fn main() {
    let out = env::var("OUT_DIR").unwrap();
    let v = fs::read_to_string("gen.txt").unwrap_or_default();
    fs::write(Path::new(&out).join("gen.rs"), format!("pub const GENERATED: &str = {:?};\n", v.trim())).unwrap();
    println!("cargo:rerun-if-changed=gen.txt");
}
