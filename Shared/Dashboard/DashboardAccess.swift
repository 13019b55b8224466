import Hummingbird

/// Who may do what on a dashboard and its API, and who they are.
///
/// Named tokens (``NamedTokens``, a file of names, roles and hashes) give each person or bot an
/// identity: what they do is logged under the token's name. Roles rank viewer < operator < approver;
/// each may do what the ones below it may. An operator starts and steers jobs; only an approver
/// applies a preview, as themself, and never one they generated.
///
/// The two shared tokens of earlier releases still work: the operator token acts as an operator
/// under the name typed at sign-in (or "dashboard API"), the viewer token views. Actions are
/// refused when no operator token (shared or named) is configured. Viewing needs a token when a
/// viewer token, shared or named, is configured; otherwise it is open.
///
/// A token comes as `Authorization: Bearer TOKEN` (scripts) or in the `jobstream_token` cookie set
/// by the sign-in page (browsers; HttpOnly, SameSite=Strict, so another site's page cannot use it).
public struct DashboardAccess: Sendable {
    /// What a request may do.
    public enum Role: Int, Sendable, Comparable, CaseIterable {
        case anonymous, viewer, `operator`, approver

        public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }

        /// The role's name in a token file and in the audit trail.
        public var name: String {
            switch self {
            case .anonymous: "anonymous"
            case .viewer: "viewer"
            case .operator: "operator"
            case .approver: "approver"
            }
        }

        /// The role a token file names (not `anonymous`).
        public static func named(_ text: String) -> Role? {
            allCases.first { $0 != .anonymous && $0.name == text.lowercased() }
        }
    }

    /// Who a request comes from: its role, and the named token's name (nil for a shared token or none).
    public struct Identity: Sendable, Equatable {
        public var role: Role
        public var name: String?

        public init(role: Role, name: String?) {
            self.role = role
            self.name = name
        }

        public static let anonymous = Identity(role: .anonymous, name: nil)
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
    let named: NamedTokens

    /// Fails naming the option when a token is too short, holds characters a cookie cannot carry, or
    /// both tokens are the same.
    public init(
        operatorToken: String?, viewerToken: String?, named: NamedTokens = .none
    ) throws(AccessConfigurationError) {
        self.named = named
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
    public var viewingNeedsToken: Bool { viewerToken != nil || named.entries.contains { $0.role == .viewer } }
    /// Whether actions can be done at all.
    public var actionsEnabled: Bool { operatorToken != nil || named.entries.contains { $0.role >= .operator } }
    /// How many named tokens there are.
    public var namedTokenCount: Int { named.entries.count }
    /// Whether any token names an approver: without one, no preview can be applied from the dashboard.
    public var approversConfigured: Bool { named.entries.contains { $0.role == .approver } }

    /// The role the token presented with `request` gives, if any.
    public func role(of request: Request) -> Role {
        identity(of: request).role
    }

    /// Who the token presented with `request` says the request comes from.
    public func identity(of request: Request) -> Identity {
        guard let token = Self.presentedToken(in: request) else { return .anonymous }
        return identity(forToken: token)
    }

    public func role(forToken token: String) -> Role {
        identity(forToken: token).role
    }

    /// Every token is compared, whichever matches, so the time taken tells nothing.
    public func identity(forToken token: String) -> Identity {
        let entry = named.entry(forToken: token)
        let isOperator = operatorToken.map { Self.constantTimeEqual(token, $0) } ?? false
        let isViewer = viewerToken.map { Self.constantTimeEqual(token, $0) } ?? false
        if let entry { return Identity(role: entry.role, name: entry.name) }
        if isOperator { return Identity(role: .operator, name: nil) }
        if isViewer { return Identity(role: .viewer, name: nil) }
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
