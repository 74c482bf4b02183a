include!(concat!(env!("OUT_DIR"), "/n.rs"));
pub fn twice() -> u32 { N * 2 }
