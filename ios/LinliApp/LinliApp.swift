// The building leaders' app (楼栋长): enrol once, then four tabs — my building's households
// (with the register forms), incidents with their 15-minute clock and detail, needs followed
// up, and sync (with the refused records). Screens only: every decision is the core's,
// every screen's state is a LinliKit class.

import BackgroundTasks
import LinliKit
import SwiftUI
import UserNotifications

/// Background refresh (BGAppRefreshTask): iOS wakes the app from time to time (at the
/// earliest 15 minutes after it was asked, at the system's discretion) for one
/// `BackgroundSync`; a new assignment, an escalation or a follow-up falling due (the core's
/// rule, against the snapshot kept in `UserDefaults`) becomes a local notification.
enum BackgroundRefresh {
    static let identifier = "cn.linli.app.sync"

    static func schedule() {
        let request = BGAppRefreshTaskRequest(identifier: identifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }

    /// One background sync; false when the device was revoked (the core erased the store,
    /// the caller signs out to delete its files and key).
    static func run(store: LinliStore, settings: SyncSettings) async -> Bool {
        schedule()
        let background = BackgroundSync(store: store, settings: settings, keeper: DefaultsSnapshotKeeper())
        switch await background.run() {
        case .synced(_, let alerts):
            await notify(alerts)
        case .stop(let notice) where notice.message == .deviceRevoked:
            return false
        default:
            break
        }
        return true
    }

    /// One notification per alert, identified by its stable key: the same event never shows
    /// twice. The body is the core's line (a category label, no personal data).
    static func notify(_ alerts: [Alert]) async {
        let center = UNUserNotificationCenter.current()
        for alert in alerts {
            let content = UNMutableNotificationContent()
            switch alert.kind {
            case .assigned: content.title = String(localized: "alert.assigned")
            case .escalated: content.title = String(localized: "alert.escalated")
            case .followUpDue: content.title = String(localized: "alert.follow_up_due")
            }
            content.body = alert.summary
            try? await center.add(UNNotificationRequest(identifier: alert.key, content: content, trigger: nil))
        }
    }
}

@main
struct LinliApp: App {
    @StateObject private var session = Session()
    @Environment(\.scenePhase) private var phase

    var body: some Scene {
        WindowGroup {
            Group {
                if let store = session.store, let enrolment = session.enrolment, let token = session.token {
                    MainView(
                        store: store,
                        settings: SyncSettings(serverUrl: enrolment.serverUrl, token: token))
                } else if session.restoring {
                    ProgressView()
                } else {
                    NavigationStack { EnrolView(session: session) }
                }
            }
            .task {
                await session.restore()
                _ = try? await UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound])
            }
        }
        .onChange(of: phase) { _, now in
            if now == .background { BackgroundRefresh.schedule() }
        }
        .backgroundTask(.appRefresh(BackgroundRefresh.identifier)) {
            let (store, settings) = await session.syncing()
            if let store, let settings {
                if !(await BackgroundRefresh.run(store: store, settings: settings)) {
                    await session.signOut()
                }
            }
        }
    }
}

struct MainView: View {
    let store: LinliStore
    @StateObject private var sync: SyncScreenState
    @StateObject private var refused: RefusedState
    @Environment(\.scenePhase) private var phase

    init(store: LinliStore, settings: SyncSettings) {
        self.store = store
        _sync = StateObject(wrappedValue: SyncScreenState(store: store, settings: settings))
        _refused = StateObject(wrappedValue: RefusedState(store: store))
    }

    var body: some View {
        TabView {
            NavigationStack { HouseholdListView(store: store) }
                .tabItem { Label("tab.households", systemImage: "building.2") }
            NavigationStack { IncidentListView(store: store) }
                .tabItem { Label("tab.incidents", systemImage: "exclamationmark.bubble") }
            NavigationStack { NeedsView(store: store) }
                .tabItem { Label("tab.needs", systemImage: "checklist") }
            NavigationStack {
                Form { SyncSection(state: sync, refused: refused) }
                    .navigationTitle("tab.sync")
            }
            .tabItem { Label("tab.sync", systemImage: "arrow.triangle.2.circlepath") }
        }
        // Coming back into coverage is the moment to sync; offline, it says so and waits.
        // While in the foreground the phone holds the long poll, so a dispatch arrives within
        // seconds.
        .task {
            sync.sync()
            sync.listen()
        }
        .onChange(of: phase) { _, now in
            if now == .active { sync.listen() } else { sync.stopListening() }
        }
    }
}
