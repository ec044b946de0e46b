// Reporting an incident (网格发现) at a place or a household; the 15-minute clock starts on save.

import LinliKit
import SwiftUI

struct IncidentReportView: View {
    @StateObject private var state: IncidentReportState
    @Environment(\.dismiss) private var dismiss

    init(store: LinliStore, placeId: String?, householdId: String?) {
        _state = StateObject(wrappedValue: IncidentReportState(
            store: store, placeId: placeId, householdId: householdId))
    }

    var body: some View {
        let ui = state.ui
        Form {
            Picker("incident.category", selection: Binding(get: { state.ui.category }, set: { state.setCategory($0) })) {
                ForEach(IncidentCategory.all, id: \.self) { category in
                    Text(category.label).tag(category)
                }
            }
            Section("incident.description") {
                TextField(
                    "incident.description_hint",
                    text: Binding(get: { state.ui.description }, set: { state.setDescription($0) }),
                    axis: .vertical)
                    .lineLimit(3...8)
                if ui.errors[.description] != nil {
                    FieldHint("incident.error.description")
                }
            }
            Picker("incident.priority", selection: Binding(get: { state.ui.priority }, set: { state.setPriority($0) })) {
                ForEach(Priority.all, id: \.self) { priority in
                    Text(priority.label).tag(priority)
                }
            }
            if ui.errors[.place] != nil {
                FieldHint("incident.error.place")
            }
            if let notice = ui.notice {
                NoticeRow(notice: notice)
            }
        }
        .navigationTitle("incident.report")
        .toolbar {
            ToolbarItem(placement: .cancellationAction) {
                Button("common.cancel") { dismiss() }
            }
            ToolbarItem(placement: .confirmationAction) {
                Button("common.report") {
                    Task { if await state.submit() { dismiss() } }
                }
                .disabled(ui.saving)
            }
        }
    }
}
