// One incident: its timeline, its response clock (from the server's receipt) and the moves
// this user may make, which are exactly the core's `incidentMoves`. Mirrors android's
// IncidentDetailState.kt.

import Foundation

/// One step of an incident's timeline: the event as recorded, and who made it by name.
public struct TimelineEntry: Hashable, Sendable {
    public let event: LifecycleEvent
    public let byName: String?
}

public struct IncidentDetailUI: Equatable, Sendable {
    public var loading = true
    public var incident: Incident?
    /// The moves this user may make now, from the core's role table; the only ones offered.
    public var moves: [IncidentAction] = []
    /// The events, oldest first, with who made each, when, and what they said.
    public var timeline: [TimelineEntry] = []
    /// `.notReceived` until the server's receipt has synced.
    public var clock: ResponseClock = .notReceived
    public var notice: Notice?

    public init() {}
}

@MainActor
public final class IncidentDetailState: StoreScreen<IncidentDetailUI> {
    public let incidentId: String
    private let clock: @Sendable () -> Int64

    public init(
        store: LinliStore,
        incidentId: String,
        worker: StoreWorker = .shared,
        clock: (@Sendable () -> Int64)? = nil
    ) {
        self.incidentId = incidentId
        self.clock = clock ?? { store.now() }
        super.init(IncidentDetailUI(), store: store, worker: worker)
        start()
    }

    /// Recomputes the response clock for the time now, without reading the store.
    public func tick() {
        let now = clock()
        update { ui in
            if let incident = ui.incident { ui.clock = responseClock(incident, now) }
        }
    }

    /// Makes `action` with its details (a return's reason, feedback's rating, …).
    @discardableResult
    public func move(_ action: IncidentAction, detail: MoveDetail = MoveDetail()) async -> Bool {
        let store = self.store
        let id = incidentId
        return await attempt { try store.moveIncidentWith(id: id, action: action, detail: detail) }
    }

    /// Dispatches (派单) to a person, a department, or both.
    @discardableResult
    public func dispatch(to: String?, department: Department?, note: String = "") async -> Bool {
        let store = self.store
        let id = incidentId
        return await attempt {
            try store.dispatchIncident(id: id, to: to, department: department, note: note)
        }
    }

    private func attempt(_ call: @escaping @Sendable () throws -> IncidentStatus) async -> Bool {
        do {
            _ = try await worker.run(call)
            update { $0.notice = nil }
            return true
        } catch {
            failed(Notice(error))
            reload()
            return false
        }
    }

    override func shows(_ change: DataChange) -> Bool {
        change.reference || (change.incidents && change.docIds.contains(incidentId))
    }

    override func load() async throws {
        let store = self.store
        let id = incidentId
        let (incident, moves, people) = try await worker.run {
            (try store.incident(id: id), try store.incidentMoves(id: id), try store.people())
        }
        let names = Dictionary(people.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let now = clock()
        update { ui in
            ui.loading = false
            ui.incident = incident
            ui.moves = moves
            ui.timeline = incident.events.map { TimelineEntry(event: $0, byName: names[$0.by]) }
            ui.clock = responseClock(incident, now)
        }
    }

    override func failed(_ notice: Notice) {
        update {
            $0.loading = false
            $0.notice = notice
        }
    }
}

/// The response clock of a whole incident at `now`, from the core's deadlines (counted from
/// the server's receipt): answered once it has left "reported", not received until then.
public func responseClock(_ incident: Incident, _ now: Int64) -> ResponseClock {
    if incident.status != .reported { return .answered }
    guard let deadline = incidentDeadlines(incident: incident)?.respondBy else { return .notReceived }
    if now > deadline { return .overdue(deadline: deadline, lateByMs: now - deadline) }
    return .running(deadline: deadline, remainingMs: deadline - now)
}
