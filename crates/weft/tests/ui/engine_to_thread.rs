// An engine cannot move to another thread.
fn main() {
    let engine = weft::Engine::builder().build().unwrap();
    std::thread::spawn(move || drop(engine));
}
