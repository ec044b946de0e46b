package cn.linli.app

import android.app.Application
import java.io.File
import uniffi.linli.LinliStore

/** Holds the one store per process that every screen shares (the core allows one writer). */
class LinliApplication : Application() {
    val accounts by lazy { AccountPrefs(this) }
    private var store: LinliStore? = null

    override fun onCreate() {
        super.onCreate()
        Alerts.ensureChannel(this)
        // Sync without tapping: every 15 minutes and whenever the network comes back.
        if (accounts.load() != null) SyncWorker.schedule(this)
    }

    /** Opens the account's store on first use. Blocks (migrations): call off the main thread. */
    @Synchronized
    fun store(account: Account): LinliStore = store ?: LinliStore.open(
        File(filesDir, "linli-${account.userId}.db").path,
        account.deviceId,
        account.userId,
    ).also { store = it }
}
