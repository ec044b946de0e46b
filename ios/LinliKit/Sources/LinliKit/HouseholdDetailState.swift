// One household with its members, tags and visit history; follows edits from anywhere
// (this phone's other screens, or a sync). Mirrors android's HouseholdDetailState.kt.

import Foundation

public struct HouseholdDetailUI: Equatable, Sendable {
    public var loading = true
    /// Nil until loaded, or when the household is not on this phone (`notice` says so).
    public var household: Household?
    /// Newest first.
    public var visits: [VisitSummary] = []
    public var dueForVisit = false
    /// Whether the user's role sees phones and sensitive tags (grid workers and admins).
    public var showSensitive = false
    public var notice: Notice?

    public init() {}
}

@MainActor
public final class HouseholdDetailState: StoreScreen<HouseholdDetailUI> {
    public let householdId: String
    private let policy = defaultVisitPolicy()
    private let clock: @Sendable () -> Int64

    public init(
        store: LinliStore,
        householdId: String,
        worker: StoreWorker = .shared,
        clock: (@Sendable () -> Int64)? = nil
    ) {
        self.householdId = householdId
        self.clock = clock ?? { store.now() }
        super.init(HouseholdDetailUI(), store: store, worker: worker)
        start()
    }

    override func shows(_ change: DataChange) -> Bool {
        change.docIds.contains(householdId)
    }

    override func load() async throws {
        let store = self.store
        let id = householdId
        let policy = self.policy
        let now = clock()
        let next: HouseholdDetailUI = try await worker.run {
            let household = try store.household(id: id)
            let address = household.address
            // The smallest place holding the household: the due query then reads a few rows.
            let place = address.unitId ?? address.buildingId ?? address.gridId
            let due = try store.householdsDue(placeId: place, policy: policy, now: now)
            var ui = HouseholdDetailUI()
            ui.loading = false
            ui.household = household
            ui.visits = try store.visitsOf(householdId: id)
            ui.dueForVisit = due.contains { $0.id == id }
            ui.showSensitive = try store.seesSensitive()
            return ui
        }
        update { $0 = next }
    }

    override func failed(_ notice: Notice) {
        update {
            $0.loading = false
            $0.notice = notice
        }
    }
}
