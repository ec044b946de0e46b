// Needs raised on door-knock visits, followed up (需求跟进): the open needs of the user's
// places and the follow-ups due, and the moves on a need. Mirrors android's NeedsState.kt.

import Foundation

/// One need of a list, with how it stands against its due date at the time of the load.
public struct NeedRow: Hashable, Sendable, Identifiable {
    public let need: NeedSummary
    public let overdue: Bool
    public let dueInMs: Int64
    public var id: String { need.id }
}

public struct NeedsUI: Equatable, Sendable {
    public var loading = true
    /// A place of any level, or nil for every need on the phone (the user's places).
    public var placeId: String?
    /// Open or in hand (待跟进 / 跟进中), the earliest due first.
    public var open: [NeedRow] = []
    /// Follow-ups due (待回访): open or in hand and due by now + the horizon.
    public var due: [NeedRow] = []
    public var overdueCount = 0
    public var notice: Notice?

    public init() {}
}

/// Both lists are read from the core's query table and follow the store's change notices, so
/// a need taken on another phone moves once it has synced. A move the need cannot make now
/// (done or referred elsewhere) becomes a notice and the lists reload. `horizonMs`: how far
/// ahead "due" looks (a day by default: today's follow-ups).
@MainActor
public final class NeedsState: StoreScreen<NeedsUI> {
    private let horizonMs: Int64
    private let clock: @Sendable () -> Int64

    public init(
        store: LinliStore,
        worker: StoreWorker = .shared,
        horizonMs: Int64 = 24 * 3600 * 1000,
        clock: (@Sendable () -> Int64)? = nil
    ) {
        self.horizonMs = horizonMs
        self.clock = clock ?? { store.now() }
        super.init(NeedsUI(), store: store, worker: worker)
        start()
    }

    public func setPlace(_ placeId: String?) {
        update { $0.placeId = placeId }
        reload()
    }

    /// The moves the need allows now, from the core (refer is `toIncident`).
    public func moves(_ needId: String) async -> [NeedAction] {
        let store = self.store
        return await attempt([]) {
            try store.needMoves(needId: needId).filter { $0 != .refer }
        }
    }

    /// 接手跟进: the user takes the need in hand (and becomes its owner).
    @discardableResult
    public func take(_ needId: String) async -> Bool {
        await move(needId, .take)
    }

    /// 办结.
    @discardableResult
    public func done(_ needId: String, note: String = "") async -> Bool {
        await move(needId, .done, note: note)
    }

    @discardableResult
    public func reopen(_ needId: String, note: String = "") async -> Bool {
        await move(needId, .reopen, note: note)
    }

    /// 转交: hands the need to `owner` (a user id).
    @discardableResult
    public func assign(_ needId: String, owner: String) async -> Bool {
        let store = self.store
        return await attempt(false) {
            _ = try store.assignNeed(needId: needId, owner: owner)
            return true
        }
    }

    /// 改期: a new due date (milliseconds).
    @discardableResult
    public func reschedule(_ needId: String, dueAt: Int64) async -> Bool {
        let store = self.store
        return await attempt(false) {
            _ = try store.rescheduleNeed(needId: needId, dueAt: dueAt)
            return true
        }
    }

    /// 转事件: reports an incident from the need (an empty `description` takes the need's
    /// text); the need becomes referred. The incident's id, or nil when refused.
    public func toIncident(
        _ needId: String,
        category: IncidentCategory,
        priority: Priority,
        description: String = ""
    ) async -> String? {
        let store = self.store
        let incident = NewNeedIncident(category: category, priority: priority, description: description)
        return await attempt(nil) {
            try store.needToIncident(needId: needId, incident: incident)
        }
    }

    private func move(_ needId: String, _ action: NeedAction, note: String = "") async -> Bool {
        let store = self.store
        return await attempt(false) {
            _ = try store.moveNeed(needId: needId, action: action, detail: NeedMoveDetail(note: note))
            return true
        }
    }

    /// Runs a store call on the worker; a failure becomes the notice and the lists reload.
    private func attempt<R: Sendable>(_ fallback: R, _ call: @escaping @Sendable () throws -> R) async -> R {
        do {
            let result = try await worker.run(call)
            update { $0.notice = nil }
            return result
        } catch {
            failed(Notice(error))
            reload()
            return fallback
        }
    }

    override func shows(_ change: DataChange) -> Bool {
        change.households || change.incidents || change.reference
    }

    override func load() async throws {
        let placeId = ui.placeId
        let now = clock()
        let horizon = horizonMs
        let store = self.store
        let (open, due) = try await worker.run {
            (try store.openNeeds(placeId: placeId), try store.needsDue(at: now + horizon))
        }
        let row = { (n: NeedSummary) in NeedRow(need: n, overdue: n.dueAt < now, dueInMs: n.dueAt - now) }
        // The core's due list covers the whole phone; in a place, keep that place's.
        let openIds = Set(open.map(\.id))
        update { ui in
            guard ui.placeId == placeId else { return }
            ui.loading = false
            ui.open = open.map(row)
            ui.due = due.filter { placeId == nil || openIds.contains($0.id) }.map(row)
            ui.overdueCount = open.filter { $0.dueAt < now }.count
        }
    }

    override func failed(_ notice: Notice) {
        update {
            $0.loading = false
            $0.notice = notice
        }
    }
}
