// The sync button and what it shows: progress, last synced, pending changes. Named for the
// screen because `SyncState` is the core's record it reads. Mirrors android's
// SyncScreenState.kt, except for cancelling (below).
//
// Offline is normal: a network error keeps everything on the phone (it is already written)
// and says it will sync later.
//
// No cancel: uniffi's Swift async calls do not pass task cancellation to Rust (the generated
// code waits for the Rust future to finish), so cancelling the Swift task would stop nothing.
// A sync ends on its own: it finishes, or fails after the core's retries and timeouts.

import Foundation

public struct SyncUI: Equatable, Sendable {
    public var running = false
    /// Counts of the sync under way (or the last one), after each round.
    public var progress: SyncProgress?
    /// Milliseconds, server clock.
    public var lastSyncedAt: Int64?
    /// Records changed on this phone that the server does not have yet.
    public var pendingChanges = 0
    /// Why the last sync did not finish cleanly; nil after a clean sync.
    public var notice: Notice?
    /// The phone holds the server's long poll and syncs when told (`listen()`).
    public var listening = false

    public init() {}
}

/// Hears progress on sync's worker thread and hands it to the screen on the main actor.
final class ProgressRelay: SyncListener {
    private let action: @Sendable (SyncProgress) -> Void

    init(_ action: @escaping @Sendable (SyncProgress) -> Void) {
        self.action = action
    }

    func onProgress(progress: SyncProgress) {
        action(progress)
    }
}

@MainActor
public final class SyncScreenState: StoreScreen<SyncUI> {
    private let settings: SyncSettings
    private var task: Task<Void, Never>?

    public init(store: LinliStore, settings: SyncSettings, worker: StoreWorker = .shared) {
        self.settings = settings
        super.init(SyncUI(), store: store, worker: worker)
        start()
    }

    private var listener: Task<Void, Never>?

    /// Starts a sync, unless one is running.
    public func sync() {
        guard task == nil else { return }
        task = Task { await self.run() }
    }

    /// Sync when told: holds the long poll for up to `waitSeconds`, and syncs whenever the
    /// server says something in the user's area changed; on a network error waits
    /// `retrySeconds` and asks again. Stops on `stopListening()` (at the end of the wait under
    /// way: Swift cancellation does not reach Rust), and on a refusal the user must act on
    /// (sign in again, revoked, update), which it shows.
    public func listen(waitSeconds: UInt32 = 25, retrySeconds: UInt64 = 5) {
        guard listener == nil else { return }
        let store = self.store
        let settings = self.settings
        update { $0.listening = true }
        listener = Task { [weak self] in
            while !Task.isCancelled {
                do {
                    let changed = try await store.waitForChanges(settings: settings, waitSeconds: waitSeconds)
                    if Task.isCancelled { break }
                    if changed, let self {
                        self.sync()
                        await self.task?.value
                    }
                } catch LinliError.Network {
                    try? await Task.sleep(nanoseconds: retrySeconds * 1_000_000_000)
                } catch LinliError.Server {
                    try? await Task.sleep(nanoseconds: retrySeconds * 1_000_000_000)
                } catch {
                    self?.update { $0.notice = Notice(error) }
                    break
                }
            }
            self?.update { $0.listening = false }
            self?.listener = nil
        }
    }

    public func stopListening() {
        listener?.cancel()
    }

    private func run() async {
        update {
            $0.running = true
            $0.progress = nil
            $0.notice = nil
        }
        let listener = ProgressRelay { [weak self] progress in
            Task { @MainActor [weak self] in
                guard let self, self.ui.running else { return }
                self.update { $0.progress = progress }
            }
        }
        do {
            let report = try await store.sync(settings: settings, listener: listener)
            update {
                // The report's counts are final; a late progress hop must not undo them.
                $0.progress = report.progress
                $0.notice = Notice(refusedIn: report)
            }
        } catch {
            update { $0.notice = Notice(error) }
        }
        update { $0.running = false }
        task = nil
        // Last-synced time and pending count moved (or not): read them again.
        reload()
    }

    // A local write adds a pending change; pulled changes do not.
    override func shows(_ change: DataChange) -> Bool {
        !change.fromSync
    }

    override func load() async throws {
        let store = self.store
        let state = try await worker.run { try store.syncState() }
        update {
            $0.lastSyncedAt = state.lastSyncAt
            $0.pendingChanges = Int(state.pendingDocs)
        }
    }

    override func failed(_ notice: Notice) {
        update { $0.notice = notice }
    }
}

extension Notice {
    /// What a completed sync tells the user about records the server refused (they stay on
    /// the phone): those outside the user's area first, as the more actionable; nil if none.
    public init?(refusedIn report: SyncReport) {
        let outside = report.refused.filter { $0.outcome == .outOfScope }.count
        if outside > 0 {
            self.init(.outsideArea, count: outside)
        } else if !report.refused.isEmpty {
            self.init(.notAccepted, count: report.refused.count)
        } else {
            return nil
        }
    }
}
