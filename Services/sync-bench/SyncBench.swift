@main
struct SyncBench {
    static func main() {}
}
