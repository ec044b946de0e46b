package cn.linli.app

import android.content.Context
import cn.linli.app.secrets.SecretStore
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
 * Keeps the account between launches: who and where in plain preferences, the token (a
 * credential) in the [SecretStore], encrypted under an Android Keystore key. A token an older
 * app left in plain preferences moves to the secret store on the first load.
 */
class AccountPrefs(context: Context, private val secrets: SecretStore) {
    private val prefs = context.getSharedPreferences("account", Context.MODE_PRIVATE)

    fun load(): Account? {
        prefs.getString(OLD_TOKEN, null)?.let { old ->
            secrets.setToken(old)
            prefs.edit().remove(OLD_TOKEN).commit()
        }
        val values = KEYS.map { prefs.getString(it, null) ?: return null }
        val token = secrets.token() ?: return null
        return Account(values[0], values[1], values[2], token)
    }

    fun save(account: Account) {
        secrets.setToken(account.token)
        val values = listOf(account.userId, account.deviceId, account.serverUrl)
        prefs.edit().apply { KEYS.zip(values).forEach { (k, v) -> putString(k, v) } }.commit()
    }

    /** Forgets the account (sign-out): its token goes with the secret store's [SecretStore.deleteAll]. */
    fun clear() {
        prefs.edit().clear().commit()
    }

    private companion object {
        val KEYS = listOf("user_id", "device_id", "server_url")
        const val OLD_TOKEN = "token"
    }
}
