// Enrolment: what the community office issued for this phone (server, user, device, token).
// A QR code would carry the same four values.

import LinliKit
import SwiftUI

struct EnrolView: View {
    @ObservedObject var session: Session
    @State private var serverUrl = ""
    @State private var userId = ""
    @State private var deviceId = ""
    @State private var token = ""
    @State private var saving = false

    var body: some View {
        Form {
            Section {
                TextField("enrol.server", text: $serverUrl)
                    .keyboardType(.URL)
                TextField("enrol.user", text: $userId)
                TextField("enrol.device", text: $deviceId)
                SecureField("enrol.token", text: $token)
            } footer: {
                Text("enrol.footer")
            }
            .textInputAutocapitalization(.never)
            .autocorrectionDisabled()
            if let notice = session.notice {
                NoticeRow(notice: notice)
            }
            Button("enrol.save") {
                saving = true
                let enrolment = Enrolment(
                    serverUrl: trimmed(serverUrl), userId: trimmed(userId), deviceId: trimmed(deviceId))
                Task {
                    await session.enrol(enrolment, token: trimmed(token))
                    saving = false
                }
            }
            .disabled(saving || [serverUrl, userId, deviceId, token].contains { trimmed($0).isEmpty })
        }
        .navigationTitle("enrol.title")
    }

    private func trimmed(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
