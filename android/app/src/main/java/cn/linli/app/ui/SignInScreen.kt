package cn.linli.app.ui

import androidx.annotation.StringRes
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import cn.linli.app.Account
import cn.linli.app.R

/**
 * Enrolment: an admin enrols the device on the server (`linli-sync-server admin … enroll`),
 * which gives its device id and token; the worker enters them once.
 */
@Composable
fun SignInScreen(onSignedIn: (Account) -> Unit) {
    var serverUrl by rememberSaveable { mutableStateOf("https://") }
    var userId by rememberSaveable { mutableStateOf("") }
    var deviceId by rememberSaveable { mutableStateOf("") }
    var token by rememberSaveable { mutableStateOf("") }
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Field(R.string.sign_in_server, serverUrl) { serverUrl = it }
        Field(R.string.sign_in_user, userId) { userId = it }
        Field(R.string.sign_in_device, deviceId) { deviceId = it }
        Field(R.string.sign_in_token, token) { token = it }
        Button(
            enabled = listOf(serverUrl, userId, deviceId, token).all { it.isNotBlank() },
            onClick = { onSignedIn(Account(userId.trim(), deviceId.trim(), serverUrl.trim(), token.trim())) },
        ) { Text(stringResource(R.string.sign_in)) }
    }
}

@Composable
private fun Field(@StringRes label: Int, value: String, onChange: (String) -> Unit) {
    OutlinedTextField(
        value = value,
        onValueChange = onChange,
        label = { Text(stringResource(label)) },
        singleLine = true,
        modifier = Modifier.fillMaxWidth(),
    )
}
