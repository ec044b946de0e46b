package cn.linli.app

import android.content.Context
import uniffi.linli.SyncSettings

/** The enrolled device: who uses it, and where and with which token it syncs. */
data class Account(
    val userId: String,
    val deviceId: String,
    val serverUrl: String,
    val token: String,
) {
    val syncSettings get() = SyncSettings(serverUrl, token)
}

/**
 * Keeps the account between launches. The token is a credential: a production build keeps it
 * in EncryptedSharedPreferences / the Android Keystore rather than plain preferences.
 */
class AccountPrefs(context: Context) {
    private val prefs = context.getSharedPreferences("account", Context.MODE_PRIVATE)

    fun load(): Account? {
        val values = KEYS.map { prefs.getString(it, null) ?: return null }
        return Account(values[0], values[1], values[2], values[3])
    }

    fun save(account: Account) {
        val values = listOf(account.userId, account.deviceId, account.serverUrl, account.token)
        prefs.edit().apply { KEYS.zip(values).forEach { (k, v) -> putString(k, v) } }.apply()
    }

    private companion object {
        val KEYS = listOf("user_id", "device_id", "server_url", "token")
    }
}
