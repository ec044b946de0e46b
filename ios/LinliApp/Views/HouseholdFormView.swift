// Registering a household (入户登记): a building or unit of my places, room, residency,
// housing, care tags and members; a warning first when a household is already at that door.
// A leader (ui.showSensitive false) may still enter ID numbers, phones and sensitive tags here:
// write-only, sent on and not shown again.

import LinliKit
import SwiftUI

struct HouseholdFormView: View {
    @StateObject private var state: HouseholdFormState
    @Environment(\.dismiss) private var dismiss
    @State private var addingMember = false
    /// Called with the new household's id once saved.
    let onSaved: (String) -> Void

    init(store: LinliStore, onSaved: @escaping (String) -> Void) {
        _state = StateObject(wrappedValue: HouseholdFormState(store: store))
        self.onSaved = onSaved
    }

    var body: some View {
        let ui = state.ui
        Form {
            Section("register.place") {
                if ui.places.isEmpty {
                    Text("register.no_places").foregroundStyle(.secondary)
                }
                Picker("register.place", selection: Binding(get: { state.ui.placeId }, set: { state.setPlace($0) })) {
                    Text("register.pick_place").tag(String?.none)
                    ForEach(ui.places, id: \.id) { place in
                        Text(place.name).tag(String?.some(place.id))
                    }
                }
                if let error = ui.errors[.place] {
                    ReasonHint(reason: error.reason)
                }
                TextField("register.room", text: Binding(get: { state.ui.room }, set: { state.setRoom($0) }))
                if let error = ui.errors[.room] {
                    ReasonHint(reason: error.reason)
                }
            }
            Section {
                Picker("detail.residency", selection: Binding(get: { state.ui.residency }, set: { state.setResidency($0) })) {
                    ForEach(Residency.all, id: \.self) { Text($0.label).tag($0) }
                }
                Picker("detail.housing", selection: Binding(get: { state.ui.housing }, set: { state.setHousing($0) })) {
                    ForEach(Housing.all, id: \.self) { Text($0.label).tag($0) }
                }
            }
            // A new household: every tag may be entered; for a leader the sensitive ones are
            // write-only.
            Section {
                ForEach(CareTag.all, id: \.self) { tag in
                    Toggle(isOn: Binding(get: { state.ui.tags.contains(tag) }, set: { state.setTag(tag, $0) })) {
                        Text(tag.label)
                    }
                }
            } header: {
                Text("register.tags")
            } footer: {
                if !ui.showSensitive { Text("register.write_only") }
            }
            Section("register.notes") {
                TextField("register.notes", text: Binding(get: { state.ui.notes }, set: { state.setNotes($0) }), axis: .vertical)
                if let error = ui.errors[.notes] {
                    ReasonHint(reason: error.reason)
                }
            }
            Section("detail.members") {
                ForEach(Array(ui.members.enumerated()), id: \.offset) { _, member in
                    LabeledContent(member.name) {
                        Text(member.relation.label)
                    }
                }
                .onDelete { offsets in
                    for index in offsets.sorted(by: >) { state.removeMember(at: index) }
                }
                // The core names the member field it refused, not which member.
                ForEach(memberErrors(ui), id: \.self) { error in
                    MemberErrorRow(error: error)
                }
                Button("member.add") { addingMember = true }
            }
            if !ui.duplicates.isEmpty {
                Section {
                    // Address and head of household: enough to tell whether it is the same family.
                    ForEach(ui.duplicates, id: \.id) { h in
                        Text([h.address, h.headName].compactMap { $0 }.joined(separator: " "))
                    }
                } header: {
                    Label("register.same_door", systemImage: "exclamationmark.triangle")
                        .foregroundStyle(.orange)
                }
            }
            if let notice = ui.notice {
                NoticeRow(notice: notice)
            }
        }
        .navigationTitle("register.title")
        .task { await state.loadPlaces() }
        .sheet(isPresented: $addingMember) {
            NavigationStack {
                NewMemberView { state.addMember($0) }
            }
        }
        .toolbar {
            ToolbarItem(placement: .cancellationAction) {
                Button("common.cancel") { dismiss() }
            }
            ToolbarItem(placement: .confirmationAction) {
                // After the same-door warning the second save registers anyway.
                Button(ui.duplicates.isEmpty ? LocalizedStringKey("common.save") : LocalizedStringKey("register.anyway")) {
                    Task {
                        if await state.submit(), let id = state.ui.savedHouseholdId {
                            onSaved(id)
                            dismiss()
                        }
                    }
                }
                .disabled(ui.saving)
            }
        }
    }

    private func memberErrors(_ ui: HouseholdFormUI) -> [FieldError<HouseholdField>] {
        [HouseholdField.memberName, .birthYear, .phone, .idNumber].compactMap { ui.errors[$0] }
    }
}

/// A refused member value on the household form: which field, and why.
struct MemberErrorRow: View {
    let error: FieldError<HouseholdField>

    var body: some View {
        HStack {
            Text(fieldLabel).font(.caption)
            ReasonHint(reason: error.reason)
        }
    }

    private var fieldLabel: LocalizedStringKey {
        switch error.field {
        case .memberName: return "member.name"
        case .birthYear: return "member.birth_year"
        case .phone: return "member.phone"
        case .idNumber: return "member.id_number"
        case .movedOutAt: return "member.moved_out"
        case .place: return "register.place"
        case .room: return "register.room"
        case .notes: return "register.notes"
        }
    }
}

/// A member entered with a new household; the core checks the values when the household is
/// saved (errors show on the household form).
struct NewMemberView: View {
    let add: (NewMember) -> Void
    @Environment(\.dismiss) private var dismiss
    @State private var name = ""
    @State private var relation: Relation = .head
    @State private var birthYear = ""
    @State private var phone = ""
    @State private var idNumber = ""

    init(add: @escaping (NewMember) -> Void) {
        self.add = add
    }

    var body: some View {
        let year = Int32(birthYear.trimmingCharacters(in: .whitespaces))
        let yearBad = !birthYear.trimmingCharacters(in: .whitespaces).isEmpty && year == nil
        Form {
            TextField("member.name", text: $name)
            Picker("member.relation", selection: $relation) {
                ForEach(Relation.all, id: \.self) { Text($0.label).tag($0) }
            }
            TextField("member.birth_year", text: $birthYear).keyboardType(.numberPad)
            if yearBad { ReasonHint(reason: "not a year") }
            TextField("member.phone", text: $phone).keyboardType(.phonePad)
            TextField("member.id_number", text: $idNumber)
        }
        .navigationTitle("member.add")
        .toolbar {
            ToolbarItem(placement: .cancellationAction) {
                Button("common.cancel") { dismiss() }
            }
            ToolbarItem(placement: .confirmationAction) {
                Button("common.add") {
                    let trimmed = { (s: String) -> String? in
                        let t = s.trimmingCharacters(in: .whitespaces)
                        return t.isEmpty ? nil : t
                    }
                    add(NewMember(
                        name: name.trimmingCharacters(in: .whitespaces), relation: relation,
                        birthYear: year, phone: trimmed(phone), idNumber: trimmed(idNumber)))
                    dismiss()
                }
                .disabled(name.trimmingCharacters(in: .whitespaces).isEmpty || yearBad)
            }
        }
    }
}
