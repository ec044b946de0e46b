// One household: address, tags, members (tap to edit; add one), former members with their
// move-out date, and its visits, newest first. Phones and the sensitive tags show only when
// ui.showSensitive (grid workers and admins); ID numbers only on the member form.

import LinliKit
import SwiftUI

struct HouseholdDetailView: View {
    let store: LinliStore
    @StateObject private var state: HouseholdDetailState
    @State private var recording = false
    @State private var reporting = false
    @State private var memberSheet: MemberSheet?

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
                    TagChips(tags: h.tags.filter { ui.showSensitive || !$0.sensitive })
                    if ui.dueForVisit { DueMarker() }
                    if !h.notes.isEmpty { Text(h.notes) }
                }
                Section("detail.members") {
                    ForEach(h.members.filter { $0.movedOutAt == nil }, id: \.id) { member in
                        Button {
                            memberSheet = MemberSheet(member: member)
                        } label: {
                            MemberRowView(member: member, showSensitive: ui.showSensitive)
                        }
                        .foregroundStyle(.primary)
                    }
                    Button("member.add") { memberSheet = MemberSheet(member: nil) }
                }
                let former = h.members.filter { $0.movedOutAt != nil }
                if !former.isEmpty {
                    Section("detail.former_members") {
                        ForEach(former, id: \.id) { member in
                            Button {
                                memberSheet = MemberSheet(member: member)
                            } label: {
                                LabeledContent(member.name) {
                                    if let at = member.movedOutAt {
                                        Text("detail.moved_out \(Date(millis: at), format: .dateTime.year().month().day())")
                                    }
                                }
                            }
                            .foregroundStyle(.primary)
                        }
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
        .sheet(item: $memberSheet) { sheet in
            NavigationStack {
                MemberFormView(store: store, householdId: state.householdId, member: sheet.member)
            }
        }
        .sheet(isPresented: $reporting) {
            NavigationStack {
                IncidentReportView(store: store, placeId: nil, householdId: state.householdId)
            }
        }
    }
}

/// The member form's sheet: an existing member, or a new one (`member` nil).
struct MemberSheet: Identifiable {
    let member: Member?
    var id: String { member?.id ?? "" }
}

/// A current member: name, relation, gender, birth year, residence status, the tags the
/// user may see, and the phone only when `showSensitive`.
struct MemberRowView: View {
    let member: Member
    let showSensitive: Bool

    var body: some View {
        VStack(alignment: .leading, spacing: 2) {
            HStack {
                Text(member.name)
                Spacer()
                if showSensitive, let phone = member.phone {
                    Text(phone).foregroundStyle(.secondary)
                }
            }
            HStack(spacing: 6) {
                Text(member.relation.label)
                if let gender = member.gender { Text(gender.label) }
                if let year = member.birthYear { Text(verbatim: String(year)) }
                if let residence = member.residence { Text(residence.label) }
            }
            .font(.caption)
            .foregroundStyle(.secondary)
            TagChips(tags: member.tags.filter { showSensitive || !$0.sensitive })
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
