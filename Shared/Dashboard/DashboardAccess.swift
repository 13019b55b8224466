import Hummingbird

/// Who may do what on a dashboard. An operator token is needed for every action that changes
/// something (Cancel); without one configured, actions are refused. A viewer token, when configured,
/// is needed to see anything at all; without one, viewing is open. The operator token also views.
///
/// A token comes as `Authorization: Bearer TOKEN` (scripts) or in the `jobstream_token` cookie set
/// by the sign-in page (browsers; HttpOnly, SameSite=Strict, so another site's page cannot use it).
public struct DashboardAccess: Sendable {
    /// What a request may do.
    public enum Role: Int, Sendable, Comparable {
        case anonymous, viewer, `operator`

        public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public static let cookieName = "jobstream_token"
    /// Tokens shorter than this are refused at start-up: they could be guessed.
    public static let minimumTokenLength = 24
    /// Tokens with fewer different characters than this are refused: `aaaa…` or `1212…` is not random.
    public static let minimumDistinctCharacters = 10
    /// Words of the placeholders that example configurations ship with; a token holding one is refused.
    public static let placeholderWords = ["change-me", "changeme", "change_me", "replace", "example", "placeholder"]

    let operatorToken: String?
    let viewerToken: String?

    /// Fails naming the option when a token is too short, holds characters a cookie cannot carry, or
    /// both tokens are the same.
    public init(operatorToken: String?, viewerToken: String?) throws(AccessConfigurationError) {
        for (name, token) in [("operator token", operatorToken), ("viewer token", viewerToken)] {
            guard let token else { continue }
            guard token.count >= Self.minimumTokenLength else {
                throw AccessConfigurationError(
                    "the \(name) is \(token.count) characters; use at least \(Self.minimumTokenLength)")
            }
            if let word = Self.placeholderWords.first(where: { token.lowercased().contains($0) }) {
                throw AccessConfigurationError(
                    "the \(name) holds \"\(word)\": it is the example's placeholder; set a random one (e.g. openssl rand -hex 24)"
                )
            }
            guard Set(token).count >= Self.minimumDistinctCharacters else {
                throw AccessConfigurationError(
                    "the \(name) has only \(Set(token).count) different characters; use a random one (e.g. openssl rand -hex 24)")
            }
            guard
                token.unicodeScalars.allSatisfy({
                    $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && !"\",;\\".unicodeScalars.contains($0)
                })
            else {
                throw AccessConfigurationError(
                    "the \(name) may hold only printable ASCII without spaces, quotes, commas, semicolons or backslashes")
            }
        }
        if let operatorToken, operatorToken == viewerToken {
            throw AccessConfigurationError("the operator token and the viewer token are the same; viewers could cancel jobs")
        }
        self.operatorToken = operatorToken
        self.viewerToken = viewerToken
    }

    /// Whether viewing needs a token.
    public var viewingNeedsToken: Bool { viewerToken != nil }
    /// Whether actions can be done at all.
    public var actionsEnabled: Bool { operatorToken != nil }

    /// The role the token presented with `request` gives, if any.
    public func role(of request: Request) -> Role {
        guard let token = Self.presentedToken(in: request) else { return .anonymous }
        return role(forToken: token)
    }

    public func role(forToken token: String) -> Role {
        if let operatorToken, Self.constantTimeEqual(token, operatorToken) { return .operator }
        if let viewerToken, Self.constantTimeEqual(token, viewerToken) { return .viewer }
        return .anonymous
    }

    /// Whether `role` may view the logs.
    public func mayView(_ role: Role) -> Bool {
        !viewingNeedsToken || role >= .viewer
    }

    static func presentedToken(in request: Request) -> String? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
        }
        return request.cookies[cookieName]?.value
    }

    /// Compares without stopping at the first difference, so response times do not tell how much of
    /// a guess was right.
    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}

/// A dashboard token that cannot be used, named in the message.
public struct AccessConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
