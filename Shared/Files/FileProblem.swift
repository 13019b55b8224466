/// A problem with a whole file, which fails the job, in words a person understands.
public struct FileProblem: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
