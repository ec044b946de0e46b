package cn.linli.app.secrets

import java.security.SecureRandom
import java.util.Base64
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** Where wrapped secrets are kept: plain preferences on the phone (they hold ciphertext only). */
interface SecretPrefs {
    fun get(name: String): String?
    fun put(name: String, value: String)
    fun remove(name: String)
}

/**
 * Keeps small secrets (the database key, the device token) encrypted with AES/GCM under a key
 * that never leaves the platform's key store: on the phone an Android Keystore AES key
 * ([keystoreKey] in AndroidSecrets.kt), in the JVM tests a plain AES key. Each value is kept as
 * base64(iv ‖ ciphertext ‖ tag) under its name; a value that fails to decrypt (the Keystore
 * was reset, the preferences restored from elsewhere) reads as absent.
 */
class SecretStore(
    private val prefs: SecretPrefs,
    private val wrappingKey: () -> SecretKey,
    private val random: SecureRandom = SecureRandom(),
) {
    /** The store's 32-byte database key: generated once, then the same on every call. */
    fun databaseKey(): ByteArray {
        get(DATABASE_KEY)?.takeIf { it.size == KEY_BYTES }?.let { return it }
        val key = ByteArray(KEY_BYTES).also(random::nextBytes)
        put(DATABASE_KEY, key)
        return key
    }

    fun token(): String? = get(TOKEN)?.toString(Charsets.UTF_8)

    fun setToken(token: String) = put(TOKEN, token.toByteArray(Charsets.UTF_8))

    /** Forgets the database key and the token (sign-out, revocation). */
    fun deleteAll() {
        prefs.remove(DATABASE_KEY)
        prefs.remove(TOKEN)
    }

    fun put(name: String, value: ByteArray) {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        // The Keystore picks the IV itself (it refuses caller-provided ones by default).
        cipher.init(Cipher.ENCRYPT_MODE, wrappingKey())
        val sealed = cipher.iv + cipher.doFinal(value)
        prefs.put(name, Base64.getEncoder().encodeToString(sealed))
    }

    fun get(name: String): ByteArray? {
        val sealed = prefs.get(name)?.let {
            try {
                Base64.getDecoder().decode(it)
            } catch (e: IllegalArgumentException) {
                return null
            }
        } ?: return null
        if (sealed.size <= IV_BYTES) return null
        return try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, wrappingKey(), GCMParameterSpec(TAG_BITS, sealed, 0, IV_BYTES))
            cipher.doFinal(sealed, IV_BYTES, sealed.size - IV_BYTES)
        } catch (e: java.security.GeneralSecurityException) {
            null
        }
    }

    companion object {
        const val KEY_BYTES = 32
        const val DATABASE_KEY = "database_key"
        const val TOKEN = "device_token"
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val IV_BYTES = 12
        private const val TAG_BITS = 128
    }
}
