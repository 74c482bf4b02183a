include!(concat!(env!("OUT_DIR"), "/gen.rs"));
pub const DATA: &str = include_str!("data.txt");
pub fn answer() -> u32 { let unused = 3; option_env!("UTIL_FLAVOUR").map(|s| s.len() as u32).unwrap_or(42) }
