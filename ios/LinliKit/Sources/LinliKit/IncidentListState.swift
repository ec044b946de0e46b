// The incidents on this phone with their status and 15-minute response clock
// (15分钟全响应), counted from the server's receipt. Mirrors android's IncidentListState.kt.

import Foundation

/// Where an incident stands against the response target.
public enum ResponseClock: Hashable, Sendable {
    /// The server has not received it yet (未接收): no clock runs.
    case notReceived
    /// Not yet accepted; `remainingMs` left until `deadline`.
    case running(deadline: Int64, remainingMs: Int64)
    /// Not accepted and past `deadline` by `lateByMs`.
    case overdue(deadline: Int64, lateByMs: Int64)
    /// Accepted: the target is met and no longer counts down.
    case answered

    public var isOverdue: Bool {
        if case .overdue = self { return true }
        return false
    }
}

public struct IncidentRow: Hashable, Sendable, Identifiable {
    public let incident: IncidentSummary
    public let clock: ResponseClock
    public var id: String { incident.id }
}

/// The list's views (its tabs): everything the filter lets through; what this user handles
/// now (派给我的); what was escalated above the grid (已督办); what is resolved and waits for
/// the resident's feedback (待回访).
public enum IncidentView: CaseIterable, Hashable, Sendable {
    case all, assignedToMe, escalated, awaitingFeedback

    /// Whether `incident` belongs in this view for the user `me`.
    public func holds(_ incident: IncidentSummary, me: String) -> Bool {
        switch self {
        case .all: return true
        case .assignedToMe: return incident.handler == me && incident.status != .closed
        case .escalated: return incident.level != .grid && incident.status != .closed
        case .awaitingFeedback: return incident.status == .resolved
        }
    }
}

public struct IncidentListUI: Equatable, Sendable {
    public var loading = true
    public var filter = IncidentFilter(statuses: [], assignee: nil, placeId: nil)
    public var view: IncidentView = .all
    /// The rows of `view`.
    public var rows: [IncidentRow] = []
    /// How many incidents each view holds (the tabs' badges).
    public var counts: [IncidentView: Int] = [:]
    public var overdueCount = 0
    public var notice: Notice?

    public init() {}
}

/// The clock is the core's: the deadline from `responseDeadline`, overdue from
/// `responseOverdue` at the store's corrected `now()`. Call `tick()` every second or so
/// while the screen shows.
@MainActor
public final class IncidentListState: StoreScreen<IncidentListUI> {
    private let clock: @Sendable () -> Int64
    /// Everything the filter let through, before the view picks its rows.
    private var all: [IncidentSummary] = []

    public init(
        store: LinliStore,
        worker: StoreWorker = .shared,
        clock: (@Sendable () -> Int64)? = nil
    ) {
        self.clock = clock ?? { store.now() }
        super.init(IncidentListUI(), store: store, worker: worker)
        start()
    }

    public func setFilter(_ filter: IncidentFilter) {
        update { $0.filter = filter }
        reload()
    }

    /// Shows another view (tab); no store read.
    public func setView(_ view: IncidentView) {
        let now = clock()
        let incidents = all
        let me = store.userId()
        update {
            $0.view = view
            Self.withClocks(&$0, incidents, now, me)
        }
    }

    /// Recomputes the response clocks for the time now, without reading the store.
    public func tick() {
        let now = clock()
        let incidents = all
        let me = store.userId()
        update { Self.withClocks(&$0, incidents, now, me) }
    }

    /// The moves this user may make on the incident now (the action menu), from the core.
    public func moves(_ incidentId: String) async -> [IncidentAction] {
        let store = self.store
        do {
            return try await worker.run { try store.incidentMoves(id: incidentId) }
        } catch {
            failed(Notice(error))
            return []
        }
    }

    /// Moves an incident along its loop (accept → start → resolve → close, or reopen). The
    /// list follows through the store's change notice. A move the incident cannot make now
    /// (someone moved it first on another phone) becomes a notice, and the list reloads to
    /// show where it actually stands.
    @discardableResult
    public func move(_ incidentId: String, _ action: IncidentAction, note: String = "") async -> Bool {
        let store = self.store
        do {
            _ = try await worker.run {
                try store.moveIncident(id: incidentId, action: action, note: note)
            }
            update { $0.notice = nil }
            return true
        } catch {
            failed(Notice(error))
            reload()
            return false
        }
    }

    override func shows(_ change: DataChange) -> Bool {
        change.incidents || change.reference
    }

    override func load() async throws {
        let filter = ui.filter
        let store = self.store
        let incidents = try await worker.run { try store.incidents(filter: filter) }
        let now = clock()
        let me = store.userId()
        guard ui.filter == filter else { return }
        all = incidents
        update { ui in
            // The filter moved on while loading: a reload for it is already marked.
            guard ui.filter == filter else { return }
            ui.loading = false
            Self.withClocks(&ui, incidents, now, me)
        }
    }

    override func failed(_ notice: Notice) {
        update {
            $0.loading = false
            $0.notice = notice
        }
    }

    private static func withClocks(
        _ ui: inout IncidentListUI, _ incidents: [IncidentSummary], _ now: Int64, _ me: String
    ) {
        let view = ui.view
        ui.rows = incidents
            .filter { view.holds($0, me: me) }
            .map { IncidentRow(incident: $0, clock: responseClock($0, now)) }
        var counts: [IncidentView: Int] = [:]
        for v in IncidentView.allCases {
            counts[v] = incidents.filter { v.holds($0, me: me) }.count
        }
        ui.counts = counts
        ui.overdueCount = ui.rows.filter { $0.clock.isOverdue }.count
    }
}

/// The response clock of a listed incident at `now`, from the core's deadline (counted from
/// the server's receipt): answered once accepted, not received until the receipt has synced.
public func responseClock(_ incident: IncidentSummary, _ now: Int64) -> ResponseClock {
    if incident.acceptedAt != nil { return .answered }
    guard let deadline = responseDeadline(incident: incident) else { return .notReceived }
    if responseOverdue(incident: incident, now: now) {
        return .overdue(deadline: deadline, lateByMs: now - deadline)
    }
    return .running(deadline: deadline, remainingMs: deadline - now)
}
