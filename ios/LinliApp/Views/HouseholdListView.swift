// My building's households (我的楼栋): care tags, the due-for-visit marker, search.

import LinliKit
import SwiftUI

struct HouseholdListView: View {
    let store: LinliStore
    @StateObject private var state: HouseholdListState
    @State private var reporting = false
    @State private var registering = false
    /// A household just registered: opened once the form closes.
    @State private var registered: String?

    init(store: LinliStore) {
        self.store = store
        _state = StateObject(wrappedValue: HouseholdListState(store: store))
    }

    var body: some View {
        let ui = state.ui
        List {
            if ui.needsFirstSync {
                Label("households.needs_first_sync", systemImage: "arrow.triangle.2.circlepath")
            }
            if let notice = ui.notice {
                NoticeRow(notice: notice)
            }
            if ui.query.isEmpty, !ui.subPlaces.isEmpty {
                Section("households.places") {
                    ForEach(ui.subPlaces, id: \.id) { place in
                        Button(place.name) { state.open(place) }
                    }
                }
            }
            Section {
                ForEach(ui.rows) { row in
                    NavigationLink(value: row.id) { HouseholdRowView(row: row) }
                }
            } header: {
                Text("households.due_count \(ui.dueCount)")
            }
        }
        .overlay {
            if ui.loading { ProgressView() }
        }
        .navigationTitle(ui.place?.name ?? "")
        .searchable(
            text: Binding(get: { state.ui.query }, set: { state.search($0) }),
            prompt: Text("households.search_prompt"))
        .refreshable { state.reload() }
        .toolbar {
            ToolbarItem(placement: .navigationBarLeading) {
                if ui.path.count > 1 {
                    Button("households.up") { state.up() }
                }
            }
            ToolbarItemGroup(placement: .primaryAction) {
                Button {
                    state.showOnlyDue(!ui.onlyDue)
                } label: {
                    Label("households.only_due", systemImage: ui.onlyDue ? "clock.fill" : "clock")
                }
                Button {
                    reporting = true
                } label: {
                    Label("incident.report", systemImage: "exclamationmark.bubble")
                }
                .disabled(ui.place == nil)
                Button {
                    registering = true
                } label: {
                    Label("register.title", systemImage: "person.badge.plus")
                }
            }
        }
        .navigationDestination(for: String.self) { id in
            HouseholdDetailView(store: store, householdId: id)
        }
        .navigationDestination(isPresented: Binding(
            get: { registered != nil },
            set: { if !$0 { registered = nil } })
        ) {
            if let id = registered {
                HouseholdDetailView(store: store, householdId: id)
            }
        }
        .sheet(isPresented: $registering) {
            NavigationStack {
                HouseholdFormView(store: store) { registered = $0 }
            }
        }
        .sheet(isPresented: $reporting) {
            NavigationStack {
                IncidentReportView(store: store, placeId: ui.place?.id, householdId: nil)
            }
        }
    }
}

struct HouseholdRowView: View {
    let row: HouseholdRow

    var body: some View {
        let h = row.household
        VStack(alignment: .leading, spacing: 4) {
            HStack {
                Text(h.address).font(.headline)
                Spacer()
                if row.dueForVisit { DueMarker() }
            }
            if let head = h.headName {
                Text(head).font(.subheadline)
            }
            TagChips(tags: h.tags)
            if let last = h.lastVisitAt {
                Text("households.last_visit \(Date(millis: last), format: .dateTime.year().month().day())")
                    .font(.caption)
                    .foregroundStyle(.secondary)
            } else {
                Text("households.never_visited")
                    .font(.caption)
                    .foregroundStyle(.secondary)
            }
        }
    }
}
