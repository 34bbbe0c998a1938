// A weft::Value cannot be sent to another thread.
fn main() {
    let value = weft::Value::from("text");
    let (tx, rx) = std::sync::mpsc::channel::<weft::Value>();
    std::thread::spawn(move || tx.send(value).unwrap());
    drop(rx);
}
