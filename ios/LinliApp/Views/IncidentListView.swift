// Incidents with their status and the 15-minute response clock, ticking every second; the
// views (all / assigned to me / escalated / waiting for feedback) as tabs; a row opens the
// incident's detail.

import Combine
import LinliKit
import SwiftUI

struct IncidentListView: View {
    let store: LinliStore
    @StateObject private var state: IncidentListState
    private let ticks = Timer.publish(every: 1, on: .main, in: .common).autoconnect()

    init(store: LinliStore) {
        self.store = store
        _state = StateObject(wrappedValue: IncidentListState(store: store))
    }

    var body: some View {
        let ui = state.ui
        List {
            // The views: all, assigned to me, escalated, waiting for feedback.
            Picker("incidents.view", selection: Binding(get: { ui.view }, set: { state.setView($0) })) {
                Text("incidents.view.all \(ui.counts[.all] ?? 0)").tag(IncidentView.all)
                Text("incidents.view.mine \(ui.counts[.assignedToMe] ?? 0)").tag(IncidentView.assignedToMe)
                Text("incidents.view.escalated \(ui.counts[.escalated] ?? 0)").tag(IncidentView.escalated)
                Text("incidents.view.feedback \(ui.counts[.awaitingFeedback] ?? 0)").tag(IncidentView.awaitingFeedback)
            }
            .pickerStyle(.segmented)
            if let notice = ui.notice {
                NoticeRow(notice: notice)
            }
            if ui.overdueCount > 0 {
                Label("incidents.overdue_count \(ui.overdueCount)", systemImage: "exclamationmark.triangle.fill")
                    .foregroundStyle(.red)
            }
            ForEach(ui.rows) { row in
                NavigationLink(value: IncidentRoute(id: row.id)) {
                    IncidentRowView(row: row, loadMoves: { await state.moves(row.id) }) { action in
                        Task { await state.move(row.id, action) }
                    }
                }
            }
        }
        .overlay {
            if ui.loading { ProgressView() }
        }
        .navigationTitle("tab.incidents")
        .refreshable { state.reload() }
        .onReceive(ticks) { _ in state.tick() }
        .navigationDestination(for: IncidentRoute.self) { route in
            IncidentDetailView(store: store, incidentId: route.id)
        }
    }
}

/// Opens an incident's detail (its own type: the households' stack navigates by String).
struct IncidentRoute: Hashable {
    let id: String
}

struct IncidentRowView: View {
    let row: IncidentRow
    let loadMoves: () async -> [IncidentAction]
    let move: (IncidentAction) -> Void
    @State private var moves: [IncidentAction] = []

    var body: some View {
        let incident = row.incident
        VStack(alignment: .leading, spacing: 4) {
            HStack {
                Text(incident.category.label).font(.headline)
                Spacer()
                Text(incident.status.label).font(.subheadline)
            }
            Text(incident.summary).lineLimit(2)
            HStack {
                ResponseClockView(clock: row.clock)
                Spacer()
                // Only the moves the core allows this user now (its role table, the
                // status, the handler), read again whenever the row changes.
                Menu("incident.move") {
                    if moves.isEmpty { Text("incident.no_moves") }
                    ForEach(moves, id: \.self) { action in
                        Button { move(action) } label: { Text(action.label) }
                    }
                }
                // Its own tap target inside the row's navigation link.
                .buttonStyle(.borderless)
            }
            .font(.caption)
        }
        .task(id: row) { moves = await loadMoves() }
    }
}

struct ResponseClockView: View {
    let clock: ResponseClock

    var body: some View {
        switch clock {
        case .running(_, let remainingMs):
            Label("clock.remaining \(minutesSeconds(remainingMs))", systemImage: "timer")
                .foregroundStyle(.orange)
        case .overdue(_, let lateByMs):
            Label("clock.overdue \(minutesSeconds(lateByMs))", systemImage: "exclamationmark.triangle")
                .foregroundStyle(.red)
        case .answered:
            Label("clock.answered", systemImage: "checkmark.circle")
                .foregroundStyle(.green)
        case .notReceived:
            Label("clock.not_received", systemImage: "icloud.slash")
                .foregroundStyle(.secondary)
        }
    }

    private func minutesSeconds(_ ms: Int64) -> String {
        let seconds = max(0, ms / 1000)
        return String(format: "%d:%02d", seconds / 60, seconds % 60)
    }
}
