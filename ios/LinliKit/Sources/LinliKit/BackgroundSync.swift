// One sync run without a screen: what background refresh (BGAppRefreshTask) calls. The core
// says what the sync brought for this user (a new assignment, an escalation, a follow-up
// falling due) between the snapshot kept from the last run and one taken after this sync;
// the app only posts the alerts. Mirrors android's BackgroundSync.kt method for method.

import Foundation

/// Where the alert snapshot is kept between background runs: `UserDefaults` on the phone
/// (`DefaultsSnapshotKeeper`), memory in tests. The text is the core's own
/// (`LinliStore.alertSnapshot`): ids, statuses, owners and due dates, no names.
public protocol SnapshotKeeper: AnyObject, Sendable {
    func load() -> String?
    func save(_ text: String)
}

/// A keeper for one process: tests, or a phone before defaults are wired.
public final class MemorySnapshotKeeper: SnapshotKeeper, @unchecked Sendable {
    private let lock = NSLock()
    private var text: String?

    public init(_ text: String? = nil) { self.text = text }

    public func load() -> String? { lock.withLock { text } }

    public func save(_ text: String) { lock.withLock { self.text = text } }
}

/// The alert snapshot in the app's `UserDefaults`, between background runs.
public final class DefaultsSnapshotKeeper: SnapshotKeeper, @unchecked Sendable {
    private static let key = "alerts.snapshot"

    public init() {}

    public func load() -> String? { UserDefaults.standard.string(forKey: Self.key) }

    public func save(_ text: String) { UserDefaults.standard.set(text, forKey: Self.key) }

    /// On sign-out: the next account starts from its own first sync.
    public func clear() { UserDefaults.standard.removeObject(forKey: Self.key) }
}

/// How a background sync ended, and what the scheduler should do next.
public enum BackgroundOutcome: Sendable {
    /// Up to date; `alerts` to raise as local notifications, one per key.
    case synced(SyncReport, alerts: [Alert])
    /// Offline, or the server is unreachable or in trouble: try again later.
    case retry(Notice)
    /// The token was refused or the device revoked (or the app is too old): stop until the
    /// user acts.
    case stop(Notice)
}

public final class BackgroundSync: Sendable {
    private let store: LinliStore
    private let settings: SyncSettings
    private let keeper: SnapshotKeeper

    public init(store: LinliStore, settings: SyncSettings, keeper: SnapshotKeeper) {
        self.store = store
        self.settings = settings
        self.keeper = keeper
    }

    public func run() async -> BackgroundOutcome {
        let before: String
        do {
            before = try keeper.load() ?? store.alertSnapshot(at: store.now())
        } catch {
            return .retry(Notice(error))
        }
        let report: SyncReport
        do {
            report = try await store.sync(settings: settings, listener: nil)
        } catch {
            return Self.outcome(of: error)
        }
        return .synced(report, alerts: alertsSince(before))
    }

    /// The alerts since `before`, keeping the new snapshot. A kept text the core refuses
    /// (from an older app, or damaged) is replaced: no alerts this once, never a crash.
    private func alertsSince(_ before: String) -> [Alert] {
        let now = store.now()
        guard let after = try? store.alertSnapshot(at: now) else { return [] }
        let alerts = (try? store.alertsBetween(
            before: before, after: after, me: store.userId(), now: now)) ?? []
        keeper.save(after)
        return alerts
    }

    private static func outcome(of error: Error) -> BackgroundOutcome {
        switch error as? LinliError {
        case .Unauthorized, .Revoked, .UnsupportedVersion: return .stop(Notice(error))
        default: return .retry(Notice(error))
        }
    }
}
