use clap::Parser;
#[derive(Parser)]
struct Args { #[arg(long, default_value = "a+b")] pattern: String }
fn main() {
    let a = Args::parse();
    let re = regex::Regex::new(&a.pattern).unwrap();
    let v: serde_json::Value = serde_json::json!({"m": re.is_match("aab"), "u": util::answer(), "g": util::GENERATED});
    println!("{}", v);
}
