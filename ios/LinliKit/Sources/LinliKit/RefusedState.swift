// "未同步的记录": the records the server refused, with why, and the two ways out. Mirrors
// android's RefusedState.kt method for method.
//
// A fix is a new write (a household or an incident moved to a building of the user's places);
// the next sync pushes it and the server takes it. A refused record is not sent again until it changes, so
// the server refuses nothing twice. `discard` drops the phone's own changes the server never
// acknowledged: the record goes back to the server's version, or is deleted if the server
// never had it.

import Foundation

public struct RefusedUI: Equatable, Sendable {
    public var loading = true
    /// Records the server refused, kept on the phone; each shows its reason (`outcome`).
    public var rows: [RefusedDocument] = []
    /// Where a record may be moved to fix it: buildings and units of the user's places.
    public var fixPlaces: [Place] = []
    /// The record an action is under way for.
    public var busy: String?
    public var notice: Notice?

    public init() {}
}

@MainActor
public final class RefusedState: StoreScreen<RefusedUI> {
    public init(store: LinliStore, worker: StoreWorker = .shared) {
        super.init(RefusedUI(), store: store, worker: worker)
        start()
    }

    // Sync rounds report refused records as changed, and a fix or a discard is a change.
    override func shows(_ change: DataChange) -> Bool {
        change.households || change.incidents || change.reference
    }

    override func load() async throws {
        let store = self.store
        let (rows, places) = try await worker.run {
            (
                try store.refusedDocuments(),
                try store.myPlaces().filter { $0.kind == .building || $0.kind == .unit }
            )
        }
        update {
            $0.loading = false
            $0.rows = rows
            $0.fixPlaces = places
        }
    }

    override func failed(_ notice: Notice) {
        update {
            $0.loading = false
            $0.busy = nil
            $0.notice = notice
        }
    }

    /// Fixes a refused record by moving it to `placeId` (a building or unit of `fixPlaces`):
    /// a household's address, an incident's place. True when written; a place outside the
    /// user's places is refused on the phone.
    @discardableResult
    public func moveTo(_ row: RefusedDocument, placeId: String) async -> Bool {
        let store = self.store
        let docId = row.docId
        switch row.kind {
        case .household:
            let patch = HouseholdPatch(
                placeId: placeId, room: nil, residency: nil, housing: nil, notes: nil)
            return await act(docId) { try store.updateHousehold(id: docId, patch: patch) }
        case .incident:
            return await act(docId) { try store.setIncidentPlace(id: docId, placeId: placeId) }
        }
    }

    /// Drops the phone's unacknowledged changes to `docId`; what is left, or nil if it failed.
    @discardableResult
    public func discard(docId: String) async -> Discarded? {
        let store = self.store
        let box = ResultBox()
        let done = await act(docId) { box.value = try store.discardLocalChanges(docId: docId) }
        return done ? box.value : nil
    }

    private func act(_ docId: String, _ action: @escaping @Sendable () throws -> Void) async -> Bool {
        guard ui.busy == nil else { return false }
        update {
            $0.busy = docId
            $0.notice = nil
        }
        var notice: Notice?
        do {
            try await worker.run(action)
        } catch {
            notice = Notice(error)
        }
        update {
            $0.busy = nil
            $0.notice = notice
        }
        // The write's own change notice reloads the list; a failed one changes nothing.
        if notice == nil { reload() }
        return notice == nil
    }
}

/// Carries a worker's result out of its `@Sendable` closure.
private final class ResultBox: @unchecked Sendable {
    var value: Discarded?
}
