package cn.linli.app

import android.Manifest
import android.app.NotificationChannel
import android.app.NotificationManager
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat
import androidx.core.content.ContextCompat
import cn.linli.app.state.SnapshotKeeper
import uniffi.linli.Alert
import uniffi.linli.AlertKind

/**
 * Local notifications for what a background sync brought: a new assignment (派单), an
 * escalation (督办) or a follow-up falling due (跟进到期), one each, on the "incidents"
 * channel (created once, at start-up). Which alerts to raise is the core's rule; this maps
 * their kinds to strings. No vendor push service: the phone hears at its next background sync
 * (at most 15 minutes), or within seconds while the app is open (the long poll). See
 * android/README.md for the push options in China.
 */
object Alerts {
    private const val CHANNEL = "incidents"

    fun ensureChannel(context: Context) {
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.O) return
        val channel = NotificationChannel(
            CHANNEL,
            context.getString(R.string.alert_channel),
            NotificationManager.IMPORTANCE_HIGH,
        )
        context.getSystemService(NotificationManager::class.java)?.createNotificationChannel(channel)
    }

    fun title(kind: AlertKind): Int = when (kind) {
        AlertKind.ASSIGNED -> R.string.alert_assigned
        AlertKind.ESCALATED -> R.string.alert_escalated
        AlertKind.FOLLOW_UP_DUE -> R.string.alert_follow_up_due
    }

    fun post(context: Context, alerts: List<Alert>) {
        if (alerts.isEmpty()) return
        val allowed = Build.VERSION.SDK_INT < Build.VERSION_CODES.TIRAMISU ||
            ContextCompat.checkSelfPermission(context, Manifest.permission.POST_NOTIFICATIONS) ==
            PackageManager.PERMISSION_GRANTED
        if (!allowed) return
        val manager = NotificationManagerCompat.from(context)
        for (alert in alerts) {
            val notification = NotificationCompat.Builder(context, CHANNEL)
                .setSmallIcon(android.R.drawable.stat_notify_sync)
                .setContentTitle(context.getString(title(alert.kind)))
                // The core's line: a category label, never a name, phone or address.
                .setContentText(alert.summary)
                .setAutoCancel(true)
                .build()
            // Tagged by the alert's stable key: the same event never makes two notifications.
            manager.notify(alert.key, 0, notification)
        }
    }
}

/** The alert snapshot in the app's private preferences, between background runs. */
class SnapshotPrefs(context: Context) : SnapshotKeeper {
    private val prefs = context.getSharedPreferences("alerts", Context.MODE_PRIVATE)

    override fun load(): String? = prefs.getString(KEY, null)

    override fun save(text: String) {
        prefs.edit().putString(KEY, text).apply()
    }

    fun clear() {
        prefs.edit().remove(KEY).apply()
    }

    private companion object {
        const val KEY = "snapshot"
    }
}
