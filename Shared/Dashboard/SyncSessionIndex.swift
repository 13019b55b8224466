import JobstreamMessages

/// The dashboard's sync sessions in list order — by start, then id — for every operation and for
/// each one, so a Sync History page finds its date range by binary search and reads only the
/// sessions it shows: its cost follows the page, not the sessions on the board.
///
/// Changes wait in a small pending list and are merged in one pass when a page asks (or when many
/// have waited), so a board filling at start-up, or a session per second arriving live, never pays
/// for moving the whole list per session.
struct SyncSessionIndex {
    /// Where a session sits in the list.
    struct Rank: Comparable, Hashable {
        let startedMilliseconds: Int
        let sessionId: String

        static func < (lhs: Rank, rhs: Rank) -> Bool {
            (lhs.startedMilliseconds, lhs.sessionId) < (rhs.startedMilliseconds, rhs.sessionId)
        }
    }

    /// A session as the list shows it: where, and under which operation.
    struct Listing: Equatable {
        let rank: Rank
        let operation: SyncOperation
    }

    /// Every listed session, and the sessions of each operation.
    private var all = SortedRanks()
    private var byOperation: [SyncOperation: SortedRanks] = [:]

    /// Lists a session (one that started; the list shows no other).
    mutating func insert(_ listing: Listing) {
        all.insert(listing.rank)
        byOperation[listing.operation, default: SortedRanks()].insert(listing.rank)
    }

    /// Takes a session listed by ``insert(_:)`` off the list.
    mutating func remove(_ listing: Listing) {
        all.remove(listing.rank)
        byOperation[listing.operation]?.remove(listing.rank)
    }

    /// The newest `limit` sessions started in `[from, before)` (epoch milliseconds; nil: unbounded) of
    /// `operation` (nil: any), newest first, and how many sessions the range holds.
    mutating func newest(
        from: Int?, before: Int?, operation: SyncOperation?, limit: Int
    ) -> (ranks: [Rank], matching: Int) {
        guard let operation else { return all.newest(from: from, before: before, limit: limit) }
        return byOperation[operation]?.newest(from: from, before: before, limit: limit) ?? ([], 0)
    }
}

/// Ranks kept sorted, with changes not yet merged.
private struct SortedRanks {
    typealias Rank = SyncSessionIndex.Rank

    private var ranks: [Rank] = []
    private var inserted: [Rank] = []
    private var removed: Set<Rank> = []
    /// Past this many waiting changes, they are merged at once, so memory waits on no page.
    private static let mergeAfter = 4_096

    mutating func insert(_ rank: Rank) {
        if removed.remove(rank) != nil { return }
        if inserted.isEmpty, ranks.last.map({ $0 < rank }) ?? true {
            ranks.append(rank)  // the usual case: the newest session so far
            return
        }
        inserted.append(rank)
        if inserted.count >= Self.mergeAfter { merge() }
    }

    mutating func remove(_ rank: Rank) {
        if let position = inserted.firstIndex(of: rank) {
            inserted.remove(at: position)
            return
        }
        removed.insert(rank)
        if removed.count >= Self.mergeAfter { merge() }
    }

    /// The ranks with every change merged.
    var settled: [Rank] {
        mutating get {
            merge()
            return ranks
        }
    }

    mutating func newest(from: Int?, before: Int?, limit: Int) -> (ranks: [Rank], matching: Int) {
        let sorted = settled
        let lower = from.map { bound in sorted.partitioningIndex { $0.startedMilliseconds >= bound } } ?? 0
        let upper = before.map { bound in sorted.partitioningIndex { $0.startedMilliseconds >= bound } } ?? sorted.count
        guard lower < upper else { return ([], 0) }
        let page = sorted[max(lower, upper - max(limit, 0))..<upper]
        return (page.reversed(), upper - lower)
    }

    /// One pass: drops the removed ranks and merges in the inserted ones, sorted.
    private mutating func merge() {
        guard !inserted.isEmpty || !removed.isEmpty else { return }
        let kept = removed.isEmpty ? ranks : ranks.filter { !removed.contains($0) }
        let incoming = inserted.sorted()
        var merged: [Rank] = []
        merged.reserveCapacity(kept.count + incoming.count)
        var (left, right) = (kept.startIndex, incoming.startIndex)
        while left < kept.endIndex, right < incoming.endIndex {
            if incoming[right] < kept[left] {
                merged.append(incoming[right])
                right += 1
            } else {
                merged.append(kept[left])
                left += 1
            }
        }
        merged.append(contentsOf: kept[left...])
        merged.append(contentsOf: incoming[right...])
        ranks = merged
        inserted.removeAll()
        removed.removeAll()
    }
}

extension RandomAccessCollection {
    /// The first index whose element satisfies `belongs`, for a predicate false then true along the
    /// collection (a binary search).
    fileprivate func partitioningIndex(where belongs: (Element) -> Bool) -> Index {
        var (low, high) = (startIndex, endIndex)
        while low < high {
            let middle = index(low, offsetBy: distance(from: low, to: high) / 2)
            if belongs(self[middle]) {
                high = middle
            } else {
                low = index(after: middle)
            }
        }
        return low
    }
}
