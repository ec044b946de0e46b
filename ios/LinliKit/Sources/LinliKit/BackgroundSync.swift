// One sync run without a screen: what background refresh (BGAppRefreshTask) calls. It
// compares the incidents before and after the sync so the app can raise a local
// notification for a new assignment or an escalation. Mirrors android's BackgroundSync.kt.

import Foundation

/// What a background sync brought that the user should hear of: one local notification each.
public enum Alert: Hashable, Sendable {
    /// An incident this user now handles, and did not before the sync (派给我的新工单).
    case assigned(IncidentSummary)
    /// An incident of the user's area raised to a higher level by the sync (督办).
    case escalated(IncidentSummary)

    public var incident: IncidentSummary {
        switch self {
        case .assigned(let i), .escalated(let i): return i
        }
    }
}

/// How a background sync ended, and what the scheduler should do next.
public enum BackgroundOutcome: Sendable {
    /// Up to date; `alerts` to raise as local notifications.
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

    public init(store: LinliStore, settings: SyncSettings) {
        self.store = store
        self.settings = settings
    }

    public func run() async -> BackgroundOutcome {
        let me = store.userId()
        let before: [String: IncidentSummary]
        do {
            before = Dictionary(uniqueKeysWithValues: try incidents().map { ($0.id, $0) })
        } catch {
            return .retry(Notice(error))
        }
        let report: SyncReport
        do {
            report = try await store.sync(settings: settings, listener: nil)
        } catch {
            return Self.outcome(of: error)
        }
        guard let after = try? incidents() else { return .synced(report, alerts: []) }
        return .synced(report, alerts: alerts(before: before, after: after, me: me))
    }

    private func incidents() throws -> [IncidentSummary] {
        try store.incidents(filter: IncidentFilter(statuses: [], assignee: nil, placeId: nil))
    }

    private static func outcome(of error: Error) -> BackgroundOutcome {
        switch error as? LinliError {
        case .Unauthorized, .Revoked, .UnsupportedVersion: return .stop(Notice(error))
        default: return .retry(Notice(error))
        }
    }
}

/// The alerts between two lists of the same store: incidents `me` handles now and did not
/// before (open ones), and incidents whose level rose.
public func alerts(before: [String: IncidentSummary], after: [IncidentSummary], me: String) -> [Alert] {
    let rank: (Level) -> Int = { level in
        switch level {
        case .grid: return 0
        case .community: return 1
        case .street: return 2
        }
    }
    let assigned = after
        .filter { $0.handler == me && $0.status != .closed && before[$0.id]?.handler != me }
        .map { Alert.assigned($0) }
    let escalated = after
        .filter { now in
            if let was = before[now.id] { return rank(now.level) > rank(was.level) }
            return rank(now.level) > 0
        }
        .map { Alert.escalated($0) }
    return assigned + escalated
}
