fn main() { println!("tiny {}", tiny::twice()); }
