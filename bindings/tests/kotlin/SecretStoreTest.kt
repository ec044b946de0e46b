package cn.linli.tests

import cn.linli.app.secrets.SecretPrefs
import cn.linli.app.secrets.SecretStore
import java.io.File
import java.util.UUID
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.Rule
import org.junit.Test
import uniffi.linli.LinliException
import uniffi.linli.LinliStore

/** Preferences as a map, to see exactly what the phone would keep in plain storage. */
class MapPrefs : SecretPrefs {
    val values = HashMap<String, String>()
    override fun get(name: String) = values[name]
    override fun put(name: String, value: String) {
        values[name] = value
    }
    override fun remove(name: String) {
        values.remove(name)
    }
}

fun aesKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

/**
 * The Android secret store's logic on the JVM, with a plain AES key where the phone has its
 * Keystore key; and the store it opens, with its key only.
 */
class SecretStoreTest {
    @get:Rule
    val stores = TempStores()

    @Test
    fun theDatabaseKeyIsMadeOnceAndKeptWrapped() {
        val prefs = MapPrefs()
        val wrapping = aesKey()
        val secrets = SecretStore(prefs, { wrapping })
        val key = secrets.databaseKey()
        assertEquals(32, key.size)
        assertContentEquals(key, secrets.databaseKey())
        // Another SecretStore over the same preferences and Keystore key: the same key.
        assertContentEquals(key, SecretStore(prefs, { wrapping }).databaseKey())
        // What sits in the preferences is not the key.
        val kept = java.util.Base64.getDecoder().decode(prefs.values.getValue(SecretStore.DATABASE_KEY))
        assertFalse(kept.toList().windowed(32).any { it == key.toList() })
        // Another wrapping key (the Keystore was reset) cannot read it: a new key is made.
        assertFalse(SecretStore(prefs, { aesKey() }).databaseKey().contentEquals(key))
    }

    @Test
    fun theTokenIsKeptEncryptedAndDeletedOnSignOut() {
        val prefs = MapPrefs()
        val wrapping = aesKey()
        val secrets = SecretStore(prefs, { wrapping })
        val token = "f".repeat(64)
        secrets.setToken(token)
        assertEquals(token, secrets.token())
        assertFalse(prefs.values.values.any { it.contains(token) || it.contains("ffff") })
        // A tampered value reads as absent, not as garbage.
        prefs.values[SecretStore.TOKEN] = prefs.values.getValue(SecretStore.TOKEN).reversed()
        assertNull(secrets.token())
        secrets.setToken(token)
        secrets.databaseKey()
        secrets.deleteAll()
        assertTrue(prefs.values.isEmpty())
        assertNull(secrets.token())
    }

    @Test
    fun theStoreOpensWithItsKeyOnlyAndErasesAll() {
        val wrapping = aesKey()
        val secrets = SecretStore(MapPrefs(), { wrapping })
        val path = File(stores.dir, "keyed.db").path
        val device = UUID.randomUUID().toString()
        val store = LinliStore.open(path, device, LI_MEI, secrets.databaseKey())
        store.putPlaces(DEMO_PLACES)
        val id = store.createHousehold(household("u-1-1", "301", "欧阳秀英"))
        store.close()

        assertFailsWith<LinliException.WrongKey> { LinliStore.open(path, device, LI_MEI, ByteArray(32)) }
        val short = assertFailsWith<LinliException.InvalidInput> { LinliStore.open(path, device, LI_MEI, ByteArray(16)) }
        assertEquals("key", short.field)

        val again = LinliStore.open(path, device, LI_MEI, secrets.databaseKey())
        assertNotNull(again.household(id))
        again.eraseAll()
        assertFailsWith<LinliException.NotFound> { again.household(id) }
        assertTrue(again.householdsIn("c-xingfu").isEmpty())
        again.close()
    }
}
