/// Answers whether the database can run a statement right now.
public protocol DatabaseHealthProbe {
    func ping() throws
}
