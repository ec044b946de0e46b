// One member of a household (户内成员): add or edit name, relation, birth year, gender,
// residence status (户籍 / 常住 / 流动), phone, ID number and their own care tags; for an
// existing member, record a move-out (迁出) with its date, or remove them. ID number, phone
// and the sensitive tags show only when ui.showSensitive; a leader adding a new member may
// still enter them, write-only.

import LinliKit
import SwiftUI

struct MemberFormView: View {
    @StateObject private var state: MemberFormState
    @Environment(\.dismiss) private var dismiss
    @State private var moveOutDate = Date()
    @State private var confirmingRemove = false
    private let member: Member?

    init(store: LinliStore, householdId: String, member: Member?) {
        _state = StateObject(wrappedValue: MemberFormState(store: store, householdId: householdId, member: member))
        self.member = member
    }

    var body: some View {
        let ui = state.ui
        // Seen by workers and admins; a leader enters them for a new member only.
        let sensitiveInputs = ui.showSensitive || member == nil
        Form {
            Section {
                TextField("member.name", text: Binding(get: { state.ui.name }, set: { state.setName($0) }))
                if let error = ui.errors[.memberName] { ReasonHint(reason: error.reason) }
                Picker("member.relation", selection: Binding(get: { state.ui.relation }, set: { state.setRelation($0) })) {
                    ForEach(Relation.all, id: \.self) { Text($0.label).tag($0) }
                }
                TextField("member.birth_year", text: Binding(get: { state.ui.birthYear }, set: { state.setBirthYear($0) }))
                    .keyboardType(.numberPad)
                if let error = ui.errors[.birthYear] { ReasonHint(reason: error.reason) }
                // Optional: the register may not know.
                Picker("member.gender", selection: Binding(get: { state.ui.gender }, set: { state.setGender($0) })) {
                    Text("member.unknown").tag(Gender?.none)
                    ForEach(Gender.all, id: \.self) { Text($0.label).tag(Gender?.some($0)) }
                }
                Picker("member.residence", selection: Binding(get: { state.ui.residence }, set: { state.setResidence($0) })) {
                    Text("member.unknown").tag(PersonResidence?.none)
                    ForEach(PersonResidence.all, id: \.self) { Text($0.label).tag(PersonResidence?.some($0)) }
                }
            }
            if sensitiveInputs {
                Section {
                    TextField("member.phone", text: Binding(get: { state.ui.phone }, set: { state.setPhone($0) }))
                        .keyboardType(.phonePad)
                    if let error = ui.errors[.phone] { ReasonHint(reason: error.reason) }
                    TextField("member.id_number", text: Binding(get: { state.ui.idNumber }, set: { state.setIdNumber($0) }))
                    if let error = ui.errors[.idNumber] { ReasonHint(reason: error.reason) }
                } footer: {
                    if !ui.showSensitive { Text("register.write_only") }
                }
            }
            // Hidden tags stay as they are: the form keeps them and saves them unchanged.
            Section("member.tags") {
                ForEach(CareTag.all.filter { sensitiveInputs || !$0.sensitive }, id: \.self) { tag in
                    Toggle(isOn: Binding(get: { state.ui.tags.contains(tag) }, set: { state.setTag(tag, $0) })) {
                        Text(tag.label)
                    }
                }
            }
            if let member, member.movedOutAt == nil {
                Section("member.move_out") {
                    DatePicker("member.moved_out", selection: $moveOutDate, in: ...Date(), displayedComponents: .date)
                    Button("member.move_out") {
                        Task { if await state.moveOut(moveOutDate.millis) { dismiss() } }
                    }
                    .disabled(ui.saving)
                    if let error = ui.errors[.movedOutAt] { ReasonHint(reason: error.reason) }
                }
            }
            if member != nil {
                Section {
                    Button("member.remove", role: .destructive) { confirmingRemove = true }
                        .disabled(ui.saving)
                }
            }
            if let notice = ui.notice {
                NoticeRow(notice: notice)
            }
        }
        .navigationTitle(member == nil ? LocalizedStringKey("member.add") : LocalizedStringKey("member.edit"))
        .task { await state.load() }
        .confirmationDialog("member.remove", isPresented: $confirmingRemove, titleVisibility: .visible) {
            Button("member.remove", role: .destructive) {
                Task { if await state.remove() { dismiss() } }
            }
            Button("common.cancel", role: .cancel) {}
        } message: {
            Text("member.remove_confirm")
        }
        .toolbar {
            ToolbarItem(placement: .cancellationAction) {
                Button("common.cancel") { dismiss() }
            }
            ToolbarItem(placement: .confirmationAction) {
                Button("common.save") {
                    Task { if await state.submit() { dismiss() } }
                }
                .disabled(ui.saving)
            }
        }
    }
}
