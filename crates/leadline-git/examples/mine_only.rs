fn main() {
    let path = std::env::args().nth(1).unwrap();
    let t = std::time::Instant::now();
    let miner = leadline_git::Miner::open(std::path::Path::new(&path)).unwrap();
    let refs = miner.refs().unwrap();
    let ids = miner.reachable(&refs.tips).unwrap();
    eprintln!("walk {:?}", t.elapsed());
    let mut n = 0;
    miner
        .mine(&ids, &Default::default(), |b| {
            n += b.len();
            true
        })
        .unwrap();
    eprintln!("mined {n} in {:?}", t.elapsed());
}
