// The sync button with progress, last synced and pending changes.

import LinliKit
import SwiftUI

struct SyncSection: View {
    @ObservedObject var state: SyncScreenState

    var body: some View {
        let ui = state.ui
        Section {
            Button {
                state.sync()
            } label: {
                if ui.running {
                    HStack {
                        ProgressView()
                        Text("sync.running")
                    }
                } else {
                    Label("sync.now", systemImage: "arrow.triangle.2.circlepath")
                }
            }
            .disabled(ui.running)
            if let progress = ui.progress {
                Text("sync.progress \(Int(progress.rounds)) \(Int(progress.docsUp)) \(Int(progress.docsDown))")
                    .font(.caption)
            }
            if let last = ui.lastSyncedAt {
                Text("sync.last \(Date(millis: last), format: .relative(presentation: .named))")
            } else {
                Text("sync.never")
            }
            Text("sync.pending \(ui.pendingChanges)")
            if let notice = ui.notice {
                NoticeRow(notice: notice)
            }
        }
    }
}
