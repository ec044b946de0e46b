// Recording a door-knock visit: purpose, the needs raised, what was done on the spot,
// whether to follow up, and the time when entered afterwards.

import LinliKit
import SwiftUI

struct VisitFormView: View {
    @StateObject private var state: VisitFormState
    @Environment(\.dismiss) private var dismiss

    init(store: LinliStore, householdId: String) {
        _state = StateObject(wrappedValue: VisitFormState(store: store, householdId: householdId))
    }

    var body: some View {
        let ui = state.ui
        Form {
            Picker("visit.purpose", selection: Binding(get: { state.ui.purpose }, set: { state.setPurpose($0) })) {
                ForEach(VisitPurpose.all, id: \.self) { purpose in
                    Text(purpose.label).tag(purpose)
                }
            }
            Section("visit.needs") {
                ForEach(Array(ui.needs.enumerated()), id: \.offset) { index, need in
                    VStack(alignment: .leading) {
                        Text(need.category.label).font(.caption).foregroundStyle(.secondary)
                        TextField("visit.need_text", text: needText(index), axis: .vertical)
                    }
                }
                .onDelete { offsets in
                    for index in offsets.sorted(by: >) { state.removeNeed(at: index) }
                }
                Menu("visit.add_need") {
                    ForEach(NeedCategory.all, id: \.self) { category in
                        Button { state.addNeed(category) } label: { Text(category.label) }
                    }
                }
                if ui.errors[.needs] != nil {
                    FieldHint("visit.error.needs")
                }
            }
            Section("visit.done_on_spot") {
                TextField(
                    "visit.done_on_spot_hint",
                    text: Binding(get: { state.ui.doneOnSpot }, set: { state.setDoneOnSpot($0) }),
                    axis: .vertical)
                if ui.errors[.doneOnSpot] != nil {
                    FieldHint("visit.error.done_on_spot")
                }
            }
            Section {
                Toggle("visit.follow_up", isOn: Binding(get: { state.ui.followUp }, set: { state.setFollowUp($0) }))
                Toggle("visit.entered_later", isOn: Binding(
                    get: { state.ui.at != nil },
                    set: { state.setTime($0 ? Date().millis : nil) }))
                if let at = ui.at {
                    DatePicker(
                        "visit.time",
                        selection: Binding(get: { Date(millis: at) }, set: { state.setTime($0.millis) }),
                        in: ...Date())
                }
                if ui.errors[.time] != nil {
                    FieldHint("visit.error.time")
                }
            }
            if let notice = ui.notice {
                NoticeRow(notice: notice)
            }
        }
        .navigationTitle("visit.record")
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

    private func needText(_ index: Int) -> Binding<String> {
        Binding(
            get: { state.ui.needs.indices.contains(index) ? state.ui.needs[index].text : "" },
            set: { state.setNeedText(at: index, $0) })
    }
}

/// A localised hint under a field the core refused (the core's reason is for logs).
struct FieldHint: View {
    let key: LocalizedStringKey

    init(_ key: LocalizedStringKey) {
        self.key = key
    }

    var body: some View {
        Text(key).font(.caption).foregroundStyle(.red)
    }
}
