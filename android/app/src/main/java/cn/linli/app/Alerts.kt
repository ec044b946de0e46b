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
import cn.linli.app.state.Alert

/**
 * Local notifications for what a background sync brought: a new assignment (派单) or an
 * escalation (督办), one each, on the "incidents" channel. No vendor push service: the phone
 * hears at its next background sync (at most 15 minutes), or within seconds while the app is
 * open (the long poll). See android/README.md for the push options in China.
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

    fun post(context: Context, alerts: List<Alert>) {
        if (alerts.isEmpty()) return
        val allowed = Build.VERSION.SDK_INT < Build.VERSION_CODES.TIRAMISU ||
            ContextCompat.checkSelfPermission(context, Manifest.permission.POST_NOTIFICATIONS) ==
            PackageManager.PERMISSION_GRANTED
        if (!allowed) return
        ensureChannel(context)
        val manager = NotificationManagerCompat.from(context)
        for (alert in alerts) {
            val title = when (alert) {
                is Alert.Assigned -> R.string.alert_assigned
                is Alert.Escalated -> R.string.alert_escalated
            }
            val notification = NotificationCompat.Builder(context, CHANNEL)
                .setSmallIcon(android.R.drawable.stat_notify_sync)
                .setContentTitle(context.getString(title))
                .setContentText(alert.incident.summary)
                .setAutoCancel(true)
                .build()
            // One notification per incident and kind: a later alert replaces an earlier one.
            manager.notify("${alert::class.simpleName}:${alert.incident.id}", 0, notification)
        }
    }
}
