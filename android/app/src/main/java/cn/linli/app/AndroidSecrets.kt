package cn.linli.app

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import cn.linli.app.secrets.SecretPrefs
import cn.linli.app.secrets.SecretStore
import java.security.KeyStore
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey

/** The secrets of this installation, wrapped by a Keystore key, kept in "secrets" preferences. */
fun secretStore(context: Context): SecretStore {
    val prefs = context.getSharedPreferences("secrets", Context.MODE_PRIVATE)
    return SecretStore(
        object : SecretPrefs {
            override fun get(name: String) = prefs.getString(name, null)
            // commit(): the key must be on disk before a store is encrypted with it.
            override fun put(name: String, value: String) {
                prefs.edit().putString(name, value).commit()
            }
            override fun remove(name: String) {
                prefs.edit().remove(name).commit()
            }
        },
        ::keystoreKey,
    )
}

private const val KEY_ALIAS = "linli-secrets"

/**
 * The AES-256 key that wraps the secrets: made once in the Android Keystore (hardware-backed
 * where the phone has it), usable for AES/GCM only and never exportable. No user
 * authentication is required, so a background sync can open the store after the first unlock.
 */
@Synchronized
fun keystoreKey(): SecretKey {
    val keyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
    (keyStore.getKey(KEY_ALIAS, null) as? SecretKey)?.let { return it }
    val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore")
    generator.init(
        KeyGenParameterSpec.Builder(KEY_ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .build(),
    )
    return generator.generateKey()
}
