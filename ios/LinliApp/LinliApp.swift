// The building leaders' app (楼栋长): enrol once, then three tabs — my building's households,
// incidents with their 15-minute clock, and sync. Screens only: every decision is the core's,
// every screen's state is a LinliKit class.

import LinliKit
import SwiftUI

@main
struct LinliApp: App {
    @StateObject private var session = Session()

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
            .task { await session.restore() }
        }
    }
}

struct MainView: View {
    let store: LinliStore
    @StateObject private var sync: SyncScreenState

    init(store: LinliStore, settings: SyncSettings) {
        self.store = store
        _sync = StateObject(wrappedValue: SyncScreenState(store: store, settings: settings))
    }

    var body: some View {
        TabView {
            NavigationStack { HouseholdListView(store: store) }
                .tabItem { Label("tab.households", systemImage: "building.2") }
            NavigationStack { IncidentListView(store: store) }
                .tabItem { Label("tab.incidents", systemImage: "exclamationmark.bubble") }
            NavigationStack {
                Form { SyncSection(state: sync) }
                    .navigationTitle("tab.sync")
            }
            .tabItem { Label("tab.sync", systemImage: "arrow.triangle.2.circlepath") }
        }
        // Coming back into coverage is the moment to sync; offline, it says so and waits.
        .task { sync.sync() }
    }
}
