import Testing
@testable import JobstreamSync
