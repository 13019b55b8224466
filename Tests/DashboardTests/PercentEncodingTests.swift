import Foundation
import Testing

@testable import JobstreamDashboard

@Suite("Percent-encoding of ids in links")
struct PercentEncodingTests {
    @Test("ASCII text is encoded as Foundation encodes it, for a path segment and a query value")
    func likeFoundation() {
        var random = SystemRandomNumberGenerator()
        let segment = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let query = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~/"))
        for _ in 0..<2_000 {
            let text = String(
                (0..<Int.random(in: 0...24, using: &random)).map { _ in
                    Character(Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &random)))
                })
            #expect(PageLayout.pathSegment(text) == text.addingPercentEncoding(withAllowedCharacters: segment), "\(text)")
            #expect(PageLayout.queryValue(text) == text.addingPercentEncoding(withAllowedCharacters: query), "\(text)")
        }
    }

    @Test("every byte of other text is encoded, so no mark can change the route")
    func otherBytes() {
        #expect(PageLayout.pathSegment("é/?#%") == "%C3%A9%2F%3F%23%25")
        #expect(PageLayout.queryValue("/sync?operation=Manual&x") == "/sync%3Foperation%3DManual%26x")
        #expect(PageLayout.pathSegment("job-1_a.b~c") == "job-1_a.b~c")
    }
}
