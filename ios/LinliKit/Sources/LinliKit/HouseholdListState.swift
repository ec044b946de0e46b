// "My households": the households on this phone under the chosen place, with their care
// tags and which are due for a visit. Mirrors android's HouseholdListState.kt.

import Foundation

public struct HouseholdRow: Hashable, Sendable, Identifiable {
    public let household: HouseholdSummary
    public let dueForVisit: Bool
    public var id: String { household.id }
}

public struct HouseholdListUI: Equatable, Sendable {
    public var loading = true
    /// The phone has no place tree yet: the first sync brings it.
    public var needsFirstSync = false
    /// From the top place down to the one listed; empty until the place tree is here.
    public var path: [Place] = []
    /// Places under the listed one, to narrow the list (grids, buildings, units).
    public var subPlaces: [Place] = []
    public var query = ""
    public var onlyDue = false
    public var rows: [HouseholdRow] = []
    public var dueCount = 0
    public var notice: Notice?

    public var place: Place? { path.last }

    public init() {}
}

/// The phone holds only what the server's scope sends it (and what the user wrote), so the
/// top place lists exactly the user's households: for a building leader, their building's.
/// Due-ness is the core's `householdsDue` under the default policy; this class only marks
/// the rows it returns. A non-blank query searches every household on the phone (the core's
/// index, Chinese names of one or two characters included).
@MainActor
public final class HouseholdListState: StoreScreen<HouseholdListUI> {
    private let policy = defaultVisitPolicy()
    /// Now, in the store's corrected clock; replaceable so previews and tests can look ahead.
    private let clock: @Sendable () -> Int64

    public init(
        store: LinliStore,
        worker: StoreWorker = .shared,
        clock: (@Sendable () -> Int64)? = nil
    ) {
        self.clock = clock ?? { store.now() }
        super.init(HouseholdListUI(), store: store, worker: worker)
        start()
    }

    public func search(_ query: String) {
        update { $0.query = query }
        reload()
    }

    public func showOnlyDue(_ only: Bool) {
        update { $0.onlyDue = only }
        reload()
    }

    /// Narrows the list to `place`, one of `ui.subPlaces`.
    public func open(_ place: Place) {
        update { $0.path.append(place) }
        reload()
    }

    /// Back to the parent place; false at the top.
    @discardableResult
    public func up() -> Bool {
        guard ui.path.count > 1 else { return false }
        update { $0.path.removeLast() }
        reload()
        return true
    }

    override func shows(_ change: DataChange) -> Bool {
        change.households || change.reference
    }

    private struct Loaded: Sendable {
        let path: [Place]
        let subPlaces: [Place]
        let rows: [HouseholdRow]
        let dueCount: Int
    }

    override func load() async throws {
        let asked = ui
        let store = self.store
        let policy = self.policy
        let now = clock()
        let loaded: Loaded? = try await worker.run {
            var path = asked.path
            if path.isEmpty, let top = try store.placesUnder(parentId: nil).first {
                path = [top]
            }
            guard let place = path.last else { return nil }
            let due = try store.householdsDue(placeId: place.id, policy: policy, now: now)
            let dueIds = Set(due.map(\.id))
            let query = asked.query.trimmingCharacters(in: .whitespacesAndNewlines)
            let listed: [HouseholdSummary]
            if !query.isEmpty {
                listed = try store.searchHouseholds(query: query, limit: 200)
            } else if asked.onlyDue {
                listed = due
            } else {
                listed = try store.householdsIn(placeId: place.id)
            }
            return Loaded(
                path: path,
                subPlaces: try store.placesUnder(parentId: place.id),
                rows: listed.map { HouseholdRow(household: $0, dueForVisit: dueIds.contains($0.id)) },
                dueCount: due.count
            )
        }
        update { ui in
            // Inputs moved on while loading: a reload for them is already marked.
            guard ui.query == asked.query, ui.onlyDue == asked.onlyDue, ui.path == asked.path
            else { return }
            ui.loading = false
            ui.notice = nil
            guard let loaded else {
                ui.needsFirstSync = true
                return
            }
            ui.needsFirstSync = false
            ui.path = loaded.path
            ui.subPlaces = loaded.subPlaces
            ui.rows = loaded.rows
            ui.dueCount = loaded.dueCount
        }
    }

    override func failed(_ notice: Notice) {
        update {
            $0.loading = false
            $0.notice = notice
        }
    }
}
