package cn.linli.app

import android.app.Application
import java.io.File
import uniffi.linli.LinliStore

/** Holds the one store per process that every screen shares (the core allows one writer). */
class LinliApplication : Application() {
    val secrets by lazy { secretStore(this) }
    val accounts by lazy { AccountPrefs(this, secrets) }
    private var store: LinliStore? = null

    override fun onCreate() {
        super.onCreate()
        Alerts.ensureChannel(this)
        // Sync without tapping: every 15 minutes and whenever the network comes back.
        if (accounts.load() != null) SyncWorker.schedule(this)
    }

    private fun storeFile(account: Account) = File(filesDir, "linli-${account.userId}.db")

    /**
     * Opens the account's store on first use, encrypted with the database key from the
     * [secrets] (generated on first use). Blocks (migrations): call off the main thread.
     */
    @Synchronized
    fun store(account: Account): LinliStore = store ?: LinliStore.open(
        storeFile(account).path,
        account.deviceId,
        account.userId,
        secrets.databaseKey(),
    ).also { store = it }

    /**
     * Signs out: erases the store (records, history, sync state, the WAL), deletes its files,
     * the database key and the token, and forgets the account. The caller has synced first
     * and confirmed with the user if changes were left unsynced. After a sync failed with
     * `Revoked` the core has already erased the store; this finishes the job. Blocks.
     */
    @Synchronized
    fun signOut() {
        val account = accounts.load()
        SyncWorker.cancel(this)
        store?.let { open ->
            runCatching { open.eraseAll() }
            open.close()
        }
        store = null
        if (account != null) {
            val db = storeFile(account)
            for (suffix in listOf("", "-wal", "-shm")) File(db.path + suffix).delete()
        }
        secrets.deleteAll()
        accounts.clear()
    }
}
