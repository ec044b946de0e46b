// One household: address, tags, members (names and relations only: phones and ID numbers
// stay off the screen), and its visits, newest first.

import LinliKit
import SwiftUI

struct HouseholdDetailView: View {
    let store: LinliStore
    @StateObject private var state: HouseholdDetailState
    @State private var recording = false
    @State private var reporting = false

    init(store: LinliStore, householdId: String) {
        self.store = store
        _state = StateObject(wrappedValue: HouseholdDetailState(store: store, householdId: householdId))
    }

    var body: some View {
        let ui = state.ui
        List {
            if let notice = ui.notice {
                NoticeRow(notice: notice)
            }
            if let h = ui.household {
                Section {
                    LabeledContent("detail.room", value: h.address.room)
                    LabeledContent("detail.residency") { Text(h.residency.label) }
                    LabeledContent("detail.housing") { Text(h.housing.label) }
                    TagChips(tags: h.tags)
                    if ui.dueForVisit { DueMarker() }
                    if !h.notes.isEmpty { Text(h.notes) }
                }
                Section("detail.members") {
                    ForEach(h.members, id: \.id) { member in
                        LabeledContent(member.name) { Text(member.relation.label) }
                    }
                }
                Section("detail.visits") {
                    if ui.visits.isEmpty {
                        Text("detail.no_visits").foregroundStyle(.secondary)
                    }
                    ForEach(ui.visits, id: \.id) { visit in
                        VisitRowView(visit: visit)
                    }
                }
            }
        }
        .overlay {
            if ui.loading { ProgressView() }
        }
        .navigationTitle(ui.household?.address.room ?? "")
        .toolbar {
            ToolbarItem(placement: .primaryAction) {
                Menu {
                    Button("visit.record") { recording = true }
                    Button("incident.report") { reporting = true }
                } label: {
                    Image(systemName: "plus")
                }
                .disabled(ui.household == nil)
            }
        }
        .sheet(isPresented: $recording) {
            NavigationStack { VisitFormView(store: store, householdId: state.householdId) }
        }
        .sheet(isPresented: $reporting) {
            NavigationStack {
                IncidentReportView(store: store, placeId: nil, householdId: state.householdId)
            }
        }
    }
}

struct VisitRowView: View {
    let visit: VisitSummary

    var body: some View {
        VStack(alignment: .leading, spacing: 2) {
            HStack {
                Text(visit.purpose.label)
                Spacer()
                Text(Date(millis: visit.at), format: .dateTime.month().day().hour().minute())
                    .foregroundStyle(.secondary)
            }
            if !visit.needs.isEmpty {
                HStack(spacing: 4) {
                    ForEach(Array(visit.needs.enumerated()), id: \.offset) { _, need in
                        Text(need.label).font(.caption)
                    }
                }
            }
            if visit.followUp {
                Label("visit.follow_up", systemImage: "arrow.uturn.forward").font(.caption)
            }
        }
    }
}
